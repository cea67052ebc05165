"""The systemd units Corral's Debian package installs (packaging/systemd), checked as systemd
itself reads them: `systemd-analyze verify` (syntax, the binary, the documentation's man pages)
and `systemd-analyze security --offline` (sandboxing, at most 2.0 "exposure"), and against
the packaged config (packaging/debian installs etc/corral/standalone.cfg as corral.cfg).

Corral-only: Debian's ZooKeeper package ships a SysV init script and no unit to compare with.
The units run for real under systemd as PID 1 in the install test (tests/packaging).
"""
import os
import re
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.corral_only, pytest.mark.storage_independent]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(ROOT, "packaging", "systemd")
MAN = os.path.join(ROOT, "packaging", "man")
MAX_EXPOSURE = 2.0

if shutil.which("systemd-analyze") is None:
    pytest.skip("systemd-analyze is not installed (packaging/install-deps.sh installs it)",
                allow_module_level=True)


def unit_settings(name):
    settings = {}
    with open(os.path.join(UNITS, name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


@pytest.fixture
def staged_units(tmp_path, request):
    """The units with ExecStart on the built binary (verify checks that it exists) and the man
    pages where `man` finds them (verify runs it for Documentation=)."""
    corral_bin = request.config.getoption("--corral-bin")
    for name in ("corral.service", "corral@.service", "corral.target"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        (tmp_path / name).write_text(text.replace("/usr/bin/corral-server", corral_bin))
    # A template is analysed as one of its instances.
    shutil.copy(tmp_path / "corral@.service", tmp_path / "corral@test.service")
    man_root = tmp_path / "man"
    for page in os.listdir(MAN):
        section = page.rsplit(".", 1)[1]
        (man_root / f"man{section}").mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.join(MAN, page), man_root / f"man{section}" / page)
    env = dict(os.environ, MANPATH=str(man_root), SYSTEMD_PAGER="cat", SYSTEMD_COLORS="0")
    return tmp_path, env


@pytest.mark.parametrize("unit", ["corral.service", "corral@test.service", "corral.target"])
def test_unit_verifies(staged_units, unit):
    directory, env = staged_units
    result = subprocess.run(["systemd-analyze", "verify", str(directory / unit)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stdout + result.stderr


@pytest.mark.parametrize("unit", ["corral.service", "corral@test.service"])
def test_unit_sandbox_exposure_is_at_most_2(staged_units, unit):
    directory, env = staged_units
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                             str(directory / unit)], capture_output=True, text=True, env=env,
                            timeout=60)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout


def test_a_broken_unit_fails_verification(staged_units):
    """The check above can fail: a unit naming a binary that is not there is refused."""
    directory, env = staged_units
    text = (directory / "corral.service").read_text()
    broken = directory / "broken.service"
    broken.write_text(re.sub(r"ExecStart=\S+", "ExecStart=/nonexistent/corral-server", text))
    result = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode != 0, result.stderr
    assert "/nonexistent/corral-server is not executable" in result.stderr, result.stderr


def test_units_are_type_notify_with_watchdog_and_restart():
    for name in ("corral.service", "corral@.service"):
        settings = unit_settings(name)
        assert settings["Type"] == ["notify"], name
        assert settings["NotifyAccess"] == ["main"], name
        assert settings["TimeoutStartSec"] == ["infinity"], name  # members wait for a quorum
        assert settings["Restart"] == ["on-failure"], name
        assert "WatchdogSec" in settings and "LimitNOFILE" in settings, name
        assert settings["User"] == ["corral"], name
        # A config error (exit 2) is not restarted in a loop.
        assert "2" in settings["RestartPreventExitStatus"][0].split(), name


def test_instances_follow_corral_target_on_upgrade_and_removal():
    """debhelper restarts (upgrade) and stops (removal) the units the package ships, which a
    template's instances are not; PartOf= carries both to every running corral@ instance."""
    assert unit_settings("corral@.service")["PartOf"] == ["corral.target"]
    assert unit_settings("corral.target")["WantedBy"] == ["multi-user.target"]
    with open(os.path.join(ROOT, "packaging", "debian", "corral-server.install")) as f:
        installed = f.read()
    for name in ("corral.service", "corral@.service", "corral.target"):
        assert f"packaging/systemd/{name} lib/systemd/system" in installed, name


def test_units_match_the_packaged_config_and_data_dirs(request):
    """corral.service reads the packaged config, whose dataDir is the unit's StateDirectory;
    an instance of the template reads /etc/corral/NAME.cfg and owns /var/lib/corral/NAME."""
    standalone = unit_settings("corral.service")
    assert standalone["ExecStart"] == ["/usr/bin/corral-server --config /etc/corral/corral.cfg"]
    with open(os.path.join(ROOT, "etc", "corral", "standalone.cfg")) as f:
        config = dict(line.strip().split("=", 1) for line in f
                      if "=" in line and not line.lstrip().startswith("#"))
    assert config["dataDir"] == "/var/lib/" + standalone["StateDirectory"][0]
    assert config["clientPortAddress"] == "127.0.0.1" and config["clientPort"] == "2181"
    assert config["admin.serverAddress"] == "127.0.0.1"
    template = unit_settings("corral@.service")
    assert template["ExecStart"] == ["/usr/bin/corral-server --config /etc/corral/%i.cfg"]
    assert template["StateDirectory"] == ["corral/%i"]
    assert template["WorkingDirectory"] == ["/var/lib/corral/%i"]
    with open(os.path.join(ROOT, "packaging", "debian", "rules")) as f:
        assert "etc/corral/standalone.cfg debian/corral-server/etc/corral/corral.cfg" in f.read()


def test_packaged_config_passes_the_servers_own_check(request, tmp_path):
    """The config installed as /etc/corral/corral.cfg is valid as it stands (its dataDir need
    not exist for --check)."""
    corral_bin = request.config.getoption("--corral-bin")
    result = subprocess.run([corral_bin, "--check", "--config",
                             os.path.join(ROOT, "etc", "corral", "standalone.cfg")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
