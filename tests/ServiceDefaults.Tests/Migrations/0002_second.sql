-- Discovery test: second.
CREATE TABLE discovered_second (id int);
