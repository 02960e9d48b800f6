"""`python -m interview_app.history.migrate`: migrate the configured database (the
Procfile's release command).

A module of its own, which nothing imports: run as `-m interview_app.history.db`, the
package's import had already imported `db` (the app factory uses it), and runpy warned
"found in sys.modules ... unpredictable behaviour" on every start.
"""

from __future__ import annotations

from interview_app.history.db import main

if __name__ == "__main__":
    main()
