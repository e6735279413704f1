-- A case keeps its distinct counting reporters (issue 19): a report joining a case added one
-- to the count it then read back, instead of counting the case's reports again (one
-- statement less per report, and one that grew with the case). The report transaction adds
-- one for a new distinct counting reporter; the paths that move or remove reports in bulk (a
-- case opening, an erasure) count again (storage/cases.py recount_reporters); deleting a
-- case deletes its count with it. Filled here for the cases already there.
ALTER TABLE cases ADD COLUMN counted_reporters INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET counted_reporters = (
    SELECT COUNT(DISTINCT r.reporter_id) FROM reports AS r
    WHERE r.case_id = cases.id AND r.counts_toward_threshold = 1
);
