CREATE TABLE t(id TEXT, name TEXT, n INTEGER, r REAL, b BLOB);
INSERT INTO t VALUES('a', 'Alice', 1, 1.5, NULL);
INSERT INTO t VALUES('b', 'Bob''s', 2, NULL, x'41');
INSERT INTO t VALUES('c', 'multi word', 3, 2.25, 'x');
CREATE TABLE aliases(local TEXT, target TEXT);
INSERT INTO aliases VALUES('postmaster', 'root@example.org');
INSERT INTO aliases VALUES('userx', 'x@example.org');
