//! Mailboxes (placeholder).
