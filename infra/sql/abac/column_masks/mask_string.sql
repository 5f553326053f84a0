-- Column mask for ABAC policies: a tagged string column reads as a fixed marker (NULL stays NULL).
-- Who sees the real value is decided by the policy's EXCEPT principals, not here: Databricks' ABAC UDF best
-- practices advise against identity lookups (is_account_group_member) inside the function.
CREATE OR REPLACE FUNCTION ${function_name}(value STRING)
RETURNS STRING
DETERMINISTIC
COMMENT 'Masks a column tagged by an ABAC column mask policy (deployed by the platform; do not edit by hand)'
RETURN CASE WHEN value IS NULL THEN NULL ELSE '***MASKED***' END
