"""Reports: the time index also holds lat/lon, so a map query (time window + bbox) is answered
from the index and reads only the rows inside the box.

``GET /api/v1/reports`` with a 24 h window and a ~30 km box over 100,000 reports read every
report of the window from the table (about 14,000 rows) to test its position: p50 68 ms on
SQLite. With lat and lon in the index the box is tested in the index: p50 3 ms
(bench/store_bench.py). The order (reported_at, id) that keyset paging relies on is unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_time_place", "reports", ["reported_at", "id", "lat", "lon"])
    op.drop_index("ix_reports_reported_at_id", table_name="reports")


def downgrade() -> None:
    op.create_index("ix_reports_reported_at_id", "reports", ["reported_at", "id"])
    op.drop_index("ix_reports_time_place", table_name="reports")
