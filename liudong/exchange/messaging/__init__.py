"""Messages between nodes: the peers (nodes), the payload fields (payloads), the one table of
message types (catalogue), signing and reading envelopes (messages), the trust boundary
(boundary), applying accepted messages (effects), the notices built from domain events
(notify), the outbox and inbox (services) and the mailbox pages and API.

Assistance, intake and matching may use this package; it imports none of them except the
assistance handlers that the catalogue names (assistance.inbox)."""
