// libpq, PostgreSQL's own C client (Debian's libpq-dev), for the collector's PostgreSQL store.
#include <libpq-fe.h>
