-- Row filter for ABAC policies: keeps only the rows whose tagged column is empty (NULL), so a row that carries
-- such a value is hidden. The policy's EXCEPT principals see every row.
CREATE OR REPLACE FUNCTION ${function_name}(value STRING)
RETURNS BOOLEAN
DETERMINISTIC
COMMENT 'Row filter of an ABAC row filter policy (deployed by the platform; do not edit by hand)'
RETURN value IS NULL
