-- Reminders before a grant ends (JITEA_REMINDER_MINUTES): when its holder was last reminded
-- of the current end. An extension clears it, so the new end gets its own reminder.

ALTER TABLE grants ADD reminded_utc DATETIMEOFFSET NULL;
