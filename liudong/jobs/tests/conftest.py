import pytest


@pytest.fixture(autouse=True)
def jobs_in_a_temporary_var(settings, tmp_path):
    """Uploads and errors files of each test in its own folder; jobs run inline unless a
    test asks for the real thread."""
    settings.VAR_DIR = tmp_path / "var"
    settings.JOBS_RUN_INLINE = True
