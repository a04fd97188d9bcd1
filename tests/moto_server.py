"""moto's server (PyPI moto[server], pinned by scripts/ensure_moto.sh) with one correction
so it answers as AWS does: moto 5.2.5 names a new permission set
`arn:aws:sso:::instance/ssoins-…/ps-…`, while AWS's own service model (botocore
data/sso-admin/2020-07-20/service-2.json, shape PermissionSetArn, pattern
`arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}`)
and the IAM Identity Center API reference say `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.
Nothing else is changed. Arguments are moto_server's (-H HOST -p PORT)."""

import sys

from moto.moto_api._internal import mock_random as random
from moto.ssoadmin import models


def generate_id(instance_arn: str) -> str:
    return (
        instance_arn.replace(":instance/", ":permissionSet/", 1)
        + "/ps-"
        + random.get_random_string(length=16).lower()
    )


models.PermissionSet.generate_id = staticmethod(generate_id)

from moto.server import main  # noqa: E402

sys.exit(main())
