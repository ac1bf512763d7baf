import CollectorStorage
import ExecEvents
import RuleEngine
import Testing

/// The behaviour ``CollectorStore`` promises, checked on both stores: every case runs once with
/// SQLite and once with PostgreSQL (at `EXECWATCH_TEST_POSTGRES_URL`, in a schema of its own; the
/// PostgreSQL cases fail when that variable is unset).
///
/// The cases are spread over `CollectorStoreTests+*.swift`, one file per facet.
@Suite("Collector store")
struct CollectorStoreTests {}
