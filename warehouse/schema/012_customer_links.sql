-- 012: one customer known by several identifiers. A record that names its customer more
-- than one way (a CRM case with the e-mail address and the phone number, a call whose
-- file gives both, a caller who gives their number when asked) links the keyed hashes
-- of those identifiers: a phone-identified call and the same customer's e-mails are one
-- customer for repeat contacts. Only keyed hashes are stored, as in feedback.customer_ref.

-- grain: one row per pair of identifiers seen naming the same customer (a < b)
CREATE TABLE customer_links (
    ref_a      VARCHAR   NOT NULL,
    ref_b      VARCHAR   NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    run_id     VARCHAR,
    PRIMARY KEY (ref_a, ref_b)
);
