-- 010: what voc told people (`voc notify`: weekly digests and alerts). Every message is
-- recorded per transport and recipient, so a re-run sends nothing twice, and a message
-- that could not be delivered is kept as failed with the reason (and tried again later).

-- grain: one row per (message, transport, recipient)
CREATE TABLE notifications (
    message_key    VARCHAR   NOT NULL,   -- digest:2026-W47:Network, alert:emerging:2026-W47:12, alert:urgent:...
    kind           VARCHAR   NOT NULL,   -- digest | alert
    department     VARCHAR,
    transport      VARCHAR   NOT NULL,   -- email | webhook
    recipient      VARCHAR   NOT NULL,   -- an e-mail address, or webhook:<host>
    subject        VARCHAR   NOT NULL,
    status         VARCHAR   NOT NULL,   -- sent | failed
    attempts       INTEGER   NOT NULL,
    error          VARCHAR,              -- why the last try failed
    first_tried_at TIMESTAMP NOT NULL,
    last_tried_at  TIMESTAMP NOT NULL,
    sent_at        TIMESTAMP,
    PRIMARY KEY (message_key, transport, recipient)
);

-- grain: one row per urgent contact an alert has been sent (or tried) for
CREATE TABLE alerted_contacts (
    feedback_id VARCHAR   PRIMARY KEY,
    message_key VARCHAR   NOT NULL,
    alerted_at  TIMESTAMP NOT NULL
);
