-- A case's distinct counting reporters are counted for every report that joins the case
-- (ReportRepository.distinct_reporters_in_case). With counts_toward_threshold outside the
-- index, each count read every report row of the case: a big case made each new report
-- slower (issue 19). In the index, the count reads the index alone. It replaces the old
-- (case_id, reporter_id) index, whose lookups it still serves: no extra index to maintain.
DROP INDEX ix_reports_case;
CREATE INDEX ix_reports_case ON reports (case_id, reporter_id, counts_toward_threshold);
