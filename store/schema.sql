-- schema.sql: the smtptrace session database, version 2 (PRAGMA user_version); embedded in store/store.c.
-- Version 2 added sessions.tls_server_name (the SNI of implicit TLS, from nDPI), sessions.pipelining,
-- events.run (a run of
-- data segments stored as one row: "frame:ts_usec:bytes:dir;...") and captures.file_size.
-- Times: *_ts are ISO-8601 UTC text with microseconds, *_usec the same instant in microseconds since 1970.
CREATE TABLE captures (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    link_type TEXT,
    first_ts TEXT,
    last_ts TEXT,
    first_ts_usec INTEGER,
    last_ts_usec INTEGER,
    packets INTEGER,
    bytes INTEGER,
    sha256 TEXT,
    file_size INTEGER,
    analyzed_at TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER REFERENCES captures(id),
    session_no INTEGER,
    client_ip TEXT,
    client_port INTEGER,
    server_ip TEXT,
    server_port INTEGER,
    client_addr TEXT,
    server_addr TEXT,
    ipv6 INTEGER,
    first_frame INTEGER,
    last_frame INTEGER,
    start_ts TEXT,
    end_ts TEXT,
    start_ts_usec INTEGER,
    end_ts_usec INTEGER,
    end_reason TEXT,
    banner_code INTEGER,
    banner TEXT,
    banner_host TEXT,
    banner_software TEXT,
    banner_datetime TEXT,
    banner_esmtp INTEGER,
    greeting_verb TEXT,
    greeting_arg TEXT,
    ehlo_attempts INTEGER,
    helo_attempts INTEGER,
    ehlo_accepted INTEGER,
    fallback INTEGER,
    tls TEXT,
    auth_mech TEXT,
    auth_user TEXT,
    auth_result INTEGER,
    messages INTEGER,
    commands INTEGER,
    replies INTEGER,
    client_bytes INTEGER,
    server_bytes INTEGER,
    gap_bytes INTEGER,
    app_protocol TEXT,
    tls_server_name TEXT,
    pipelining INTEGER,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE capabilities (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    keyword TEXT NOT NULL,
    params TEXT NOT NULL
);
CREATE TABLE events (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    frame INTEGER,
    frames TEXT,
    ts TEXT,
    ts_usec INTEGER,
    dir TEXT NOT NULL,
    kind TEXT NOT NULL,
    verb TEXT,
    verb_text TEXT,
    args TEXT,
    code INTEGER,
    enhanced_code TEXT,
    text TEXT,
    lines TEXT,
    bytes INTEGER,
    flags INTEGER,
    gap_len INTEGER,
    reply_to_seq INTEGER,
    run TEXT
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    mail_from TEXT,
    mail_params TEXT,
    declared_size INTEGER,
    transport TEXT,
    body_bytes INTEGER,
    subject TEXT,
    header_from TEXT,
    header_to TEXT,
    message_id TEXT,
    header_date TEXT,
    result_code INTEGER,
    result_text TEXT,
    first_frame INTEGER,
    recipients_seen INTEGER
);
CREATE TABLE recipients (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    seq INTEGER NOT NULL,
    address TEXT,
    params TEXT,
    code INTEGER,
    text TEXT
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    kind TEXT NOT NULL,
    extension TEXT,
    severity TEXT NOT NULL,
    frame INTEGER,
    event_seq INTEGER,
    detail TEXT
);
CREATE INDEX captures_sha256 ON captures(sha256);
CREATE INDEX sessions_capture ON sessions(capture_id);
CREATE INDEX sessions_server ON sessions(server_ip);
CREATE INDEX sessions_client ON sessions(client_ip);
CREATE INDEX capabilities_session ON capabilities(session_id, seq);
CREATE INDEX events_session ON events(session_id, seq);
CREATE INDEX messages_session ON messages(session_id, seq);
CREATE INDEX recipients_message ON recipients(message_id, seq);
CREATE INDEX findings_kind ON findings(kind);
CREATE INDEX findings_session ON findings(session_id, event_seq);
