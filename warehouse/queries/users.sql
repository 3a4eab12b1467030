-- Dashboard users (warehouse/users.py): who may sign in, as what; bcrypt hashes only.

-- name: user_by_name
-- grain: one user, with the password hash (for sign-in only)
SELECT username, name, email, role, department, password_hash
FROM users
WHERE username = $username;

-- name: user_list
-- grain: one row per user (never the hash), by role then name
SELECT username, name, email, role, department, created_at, updated_at
FROM users
ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'analyst' THEN 1 ELSE 2 END, department, name;

-- name: user_credentials
-- grain: one row per user, with the hash, for the sign-in widget
SELECT username, name, email, role, password_hash
FROM users
ORDER BY username;

-- name: insert_user
INSERT INTO users (username, name, email, role, department, password_hash, created_at, updated_at)
VALUES ($username, $name, $email, $role, $department, $password_hash, $at, $at);

-- name: set_user_password
UPDATE users SET password_hash = $password_hash, updated_at = $at WHERE username = $username;

-- name: department_heads
-- grain: one row per department in the departments table, with its head's e-mail
SELECT name, head FROM departments ORDER BY name;
