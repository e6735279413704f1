-- An erasure can meet a case whose alert POST may have reached Discord without its message ID
-- being stored (a crash between the POST and the record): 'search' rows name the channel and
-- the case (its ID in message_id); the outbox looks for that case's alert among the channel's
-- recent messages and deletes it.
ALTER TABLE alert_cleanup DROP CONSTRAINT alert_cleanup_kind_check;
ALTER TABLE alert_cleanup ADD CONSTRAINT alert_cleanup_kind_check
    CHECK (kind IN ('message', 'thread', 'search'));
