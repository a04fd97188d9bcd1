"""A real SMTP server for the notification tests (aiosmtpd): stores every accepted message as
a file in a folder and answers 451 to the first N messages (a server that is briefly
refusing mail). Usage: smtp_sink.py OUT_DIR REFUSE_FIRST [HOLD_FIRST_SECS]. With
HOLD_FIRST_SECS, the first accepted message is stored at once but its "250" answer is held
back that long (a sender that crashes meanwhile has delivered without knowing it). It binds
127.0.0.1 port 0 and prints "listening PORT" once ready; it runs until killed.

Each accepted message is written as NNNNNN.eml, through a temporary file renamed into place,
so a reader never sees half a message. The envelope recipients come first as
"X-Envelope-To:" lines.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, refuse, hold):
        self.out = out
        self.refuse = refuse
        self.hold = hold
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.n += 1
        head = "".join(f"X-Envelope-To: {r}\r\n" for r in envelope.rcpt_tos).encode()
        tmp = os.path.join(self.out, f".{self.n}.tmp")
        with open(tmp, "wb") as f:
            f.write(head + (envelope.original_content or envelope.content))
        os.rename(tmp, os.path.join(self.out, f"{self.n:06d}.eml"))
        if self.hold > 0:
            hold, self.hold = self.hold, 0
            await asyncio.sleep(hold)
        return "250 OK"


async def main():
    out, refuse = sys.argv[1], int(sys.argv[2])
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    loop = asyncio.get_running_loop()
    handler = Sink(out, refuse, hold)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", 0
    )
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


asyncio.run(main())
