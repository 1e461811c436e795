DROP TABLE settings;
--bun:split
DROP TABLE sessions;
--bun:split
DROP TABLE products;
--bun:split
DROP TABLE categories;
--bun:split
DROP TABLE users;
