-- Discovery test: first.
CREATE TABLE discovered_first (id int);
