-- The catalogue's version: roles, their eligibility rules, their db-role mapping, db roles
-- and targets. Every store function that changes one of those tables adds 1 in the same
-- transaction, so each process can keep the catalogue in memory and know, with one read
-- per request, whether another process changed it.
CREATE TABLE catalog_version (
    id BIGINT NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
