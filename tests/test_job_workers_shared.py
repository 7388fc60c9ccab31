"""Web import jobs on nodes that share no directory (issue 16): with object storage the job's
folder is also kept in the bucket, so a worker on another node than the one that received the
upload takes the job, and takes it over from a worker killed with SIGKILL, every row once."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import ImportBatch
from portal.operations import imports

from .test_job_workers import kill_one_mid_import, wait_for, workers  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def app(s3_app):
    return s3_app


def test_workers_of_other_nodes_take_a_web_import_from_the_bucket(app, client, world, workers,  # noqa: F811
                                                                  s3_server, tmp_path):
    def on_its_own_node(name: str):
        return workers(name, own_data_dir=tmp_path / f"node-{name}", env=s3_server.environ(prefix="portal"))

    batch_id = kill_one_mid_import(client, workers, start_worker=on_its_own_node)
    # The worker removes the job's files just after marking it done.
    wait_for(lambda: db.session.get(ImportBatch, batch_id).files_removed_at, 30, "the job's files stayed",
              workers.started)
    assert db.session.get(ImportBatch, batch_id).files_sha256
    assert not [key for key in s3_server.keys() if "jobs/" in key]  # the job's archive went with it
    assert imports.job_folder(batch_id).is_dir()  # the receiving node's folder, left for its own sweep
    imports.remove_expired_job_files()
    assert not imports.job_folder(batch_id).exists()
