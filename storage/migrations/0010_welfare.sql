-- Welfare checks (issue 15).

-- When a delivered check-in (a private DM to the member at risk) last held the next one back,
-- or when one is being sent: a compare-and-set claim, so two moderators pressing Check in at
-- once send one DM. NULL: none held.
ALTER TABLE cases ADD COLUMN check_in_at TEXT;

-- The member's own Discord locale, known only when they asked for support themselves (their
-- check-in is written in it); NULL: unknown (the server's language is used). Erased with the
-- case.
ALTER TABLE cases ADD COLUMN target_locale TEXT
    CHECK (target_locale IS NULL OR length(target_locale) <= 16);
