-- 004: dashboard users. Passwords are stored as bcrypt hashes only.

-- grain: one row per person who can sign in
CREATE TABLE users (
    username      VARCHAR   PRIMARY KEY,
    name          VARCHAR   NOT NULL,
    email         VARCHAR,
    role          VARCHAR   NOT NULL,   -- admin | analyst | head
    department    VARCHAR,              -- for heads: the only department they see
    password_hash VARCHAR   NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
