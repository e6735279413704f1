-- Earlier versions remembered the delivery notices they sent by an English sentence; problems
-- are codes now (missing_permission, http:503, ...), worded only when shown. A remembered
-- sentence would never match a code again, so it goes: at worst a server whose problem
-- persists is told once more, in its language.
DELETE FROM delivery_notices
WHERE problem IN (
    'the alert message was deleted',
    'Vigil is missing a permission in the alert channel (View Channel, Send Messages, Embed Links)',
    'the alert channel no longer exists',
    'rate limited by Discord'
)
OR problem LIKE 'Discord answered %'
OR problem LIKE 'network error (%';
