-- Each urgent reminder as it was sent (t15-followup), for the case's timeline: which one and
-- when. Written in the transaction that counts it (the compare-and-set on
-- cases.reminders_sent), so once, whichever process sent it; a step skipped because reminders
-- were turned off is counted there but not written here. `kind`: 'reminder' (a reply
-- mentioning the moderator role), 'owner' (the owner or the admin channel was told nobody
-- acted). Deleted with its case (retention, erasure). Cases older than this table show only
-- their count.
CREATE TABLE case_reminders (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    number  INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('reminder', 'owner')),
    sent_at TEXT NOT NULL,
    PRIMARY KEY (case_id, number)
);
