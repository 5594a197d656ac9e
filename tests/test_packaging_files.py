"""The files that package pushdesk for each desktop: the Windows and macOS
icons, the Linux menu entry and the script that installs the Linux archive,
and the workflow that builds the bundles on runners this machine is not."""

import configparser
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import IcnsImagePlugin, IcoImagePlugin, Image, ImageChops, ImageStat
from PySide6.QtWidgets import QApplication

from pushdesk.resources import ICON_SIZES
from pushdesk.ui.desktop import application

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
LINUX = ROOT / "packaging" / "linux"
WORKFLOW = ROOT / ".github" / "workflows" / "bundle.yml"

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Pillow's ICNS writer stores 16 pt to 512 pt at 1x and 2x: 32 to 1024 px.
ICNS_PIXELS = (32, 64, 128, 256, 512, 1024)
# Mean difference per colour channel (0-255) below which two images are the
# same drawing. The same size drawn twice differs by 0; the 512 px drawing
# scaled to 32 px by about 2; the maskable web icon (same bell, other margins)
# by 15; the paused icon by 87.
SAME_ARTWORK = 2.0

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="install.sh installs the Linux archive"
)


# --- Icons for Windows and macOS ----------------------------------------------


def ico_frames() -> dict[int, Image.Image]:
    with Image.open(ICONS / "pushdesk.ico") as ico:
        assert isinstance(ico, IcoImagePlugin.IcoImageFile)
        return {
            width: ico.ico.getimage((width, height)).copy()
            for width, height in ico.ico.sizes()
        }


def icns_frames() -> dict[int, Image.Image]:
    """The .icns's images by their width in pixels (16 pt at 2x is 32 px)."""
    with Image.open(ICONS / "pushdesk.icns") as icns:
        assert isinstance(icns, IcnsImagePlugin.IcnsImageFile)
        return {
            width * scale: icns.icns.getimage((width, height, scale)).copy()
            for width, height, scale in icns.info["sizes"]
        }


def png(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.copy()


def drawn(size: int, name: str = "pushdesk") -> Image.Image:
    return png(ICONS / f"{name}-{size}.png")


def difference(image: Image.Image, reference: Image.Image) -> float:
    """Mean difference per channel, transparency included: both are laid on a
    magenta ground, so a transparent corner differs from a blue one."""

    def on_ground(picture: Image.Image) -> Image.Image:
        picture = picture.convert("RGBA")
        ground = Image.new("RGBA", picture.size, (255, 0, 255, 255))
        return Image.alpha_composite(ground, picture).convert("RGB")

    assert image.size == reference.size
    delta = ImageChops.difference(on_ground(image), on_ground(reference))
    return max(ImageStat.Stat(delta).mean)


def test_the_ico_holds_every_size_windows_asks_for() -> None:
    frames = ico_frames()

    assert sorted(frames) == list(ICO_SIZES)
    for size, frame in frames.items():
        assert frame.size == (size, size)
        assert frame.mode == "RGBA"


def test_the_icns_holds_every_size_from_16_to_512_points_at_1x_and_2x() -> None:
    frames = icns_frames()

    assert sorted(frames) == list(ICNS_PIXELS)
    for size, frame in frames.items():
        assert frame.size == (size, size)
        assert frame.mode == "RGBA"


@pytest.mark.parametrize("size", ICO_SIZES)
def test_each_ico_frame_is_our_bell_at_that_size(size: int) -> None:
    assert difference(ico_frames()[size], drawn(size)) < SAME_ARTWORK


@pytest.mark.parametrize("size", ICNS_PIXELS)
def test_each_icns_image_is_our_bell_at_that_size(size: int) -> None:
    image = icns_frames()[size]
    if size not in ICON_SIZES:
        # No PNG is drawn at 1024 px: compare it scaled to the largest one.
        image = image.resize((512, 512), Image.Resampling.LANCZOS)
        size = 512

    assert difference(image, drawn(size)) < SAME_ARTWORK


def test_the_comparison_tells_other_artwork_apart() -> None:
    frame = ico_frames()[256]
    maskable = png(ROOT / "web" / "icons" / "icon-512-maskable.png")

    assert difference(frame, drawn(256, "pushdesk-paused")) > SAME_ARTWORK
    assert difference(frame, maskable.resize((256, 256))) > SAME_ARTWORK


# --- The Linux menu entry -------------------------------------------------------


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def validate(path: Path) -> str:
    """desktop-file-validate's complaints, less the one hint we accept: the
    entry names two main categories (Network, Utility) on purpose."""
    checked = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True
    )
    lines = (checked.stdout + checked.stderr).splitlines()
    complaints = [line for line in lines if "more than one main category" not in line]
    assert checked.returncode == 0, lines
    return "\n".join(complaints)


needs_validator = pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None,
    reason="desktop-file-validate (desktop-file-utils) is not installed",
)


@needs_validator
def test_the_menu_entry_is_a_valid_desktop_file() -> None:
    assert validate(LINUX / "pushdesk.desktop") == ""


def test_the_menu_entry_starts_the_pushdesk_command_without_a_terminal() -> None:
    entry = read_entry(LINUX / "pushdesk.desktop")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]

    assert entry["Type"] == "Application"
    assert entry["Name"] == "pushdesk"
    assert entry["Exec"] == "pushdesk"
    assert entry["Exec"] in scripts
    assert entry["Terminal"] == "false"
    assert entry["Categories"] == "Network;Utility;"
    assert entry["Icon"] == "pushdesk"
    assert (ICONS / "pushdesk-48.png").is_file()


def test_the_menu_entry_names_the_window_the_app_opens(qapp: QApplication) -> None:
    app = application()
    entry = read_entry(LINUX / "pushdesk.desktop")

    # X11 matches the window by its class, which Qt takes from the
    # application name; Wayland by the desktop file name.
    assert entry["StartupWMClass"] == app.applicationName()
    assert app.desktopFileName() == (LINUX / "pushdesk.desktop").stem


# --- install.sh -----------------------------------------------------------------


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An unpacked archive as packaging/build.sh lays it out, with a shell
    script for the bundle's executable."""
    top = tmp_path / "unpacked" / "pushdesk-0.0.0"
    bundle = top / "pushdesk"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "base_library.zip").write_bytes(b"the bundle's libraries")
    executable = bundle / "pushdesk"
    executable.write_text('#!/bin/sh\necho "pushdesk from the bundle: $*"\n')
    executable.chmod(0o755)
    shutil.copy2(LINUX / "install.sh", top)
    shutil.copy2(LINUX / "pushdesk.desktop", top)
    (top / "icons").mkdir()
    for size in ICON_SIZES:
        shutil.copy2(ICONS / f"pushdesk-{size}.png", top / "icons")
    shutil.copy2(ICONS / "pushdesk.svg", top / "icons")
    return top


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def as_user(
    home: Path, command: list[str], data_home: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as a user with this home would, in that home."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    if data_home is not None:
        env["XDG_DATA_HOME"] = data_home
    return subprocess.run(
        command, env=env, cwd=home, capture_output=True, text=True, timeout=60
    )


def install(
    archive: Path, home: Path, *args: str, data_home: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the archive's install.sh."""
    return as_user(home, [str(archive / "install.sh"), *args], data_home)


def run_exec_line(entry: Path) -> str:
    """Start what the menu entry's Exec= line names, as a desktop would."""
    command = shlex.split(read_entry(entry)["Exec"])
    ran = subprocess.run([*command, "--version"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def installed_icons(data: Path) -> dict[str, bytes]:
    hicolor = data / "icons" / "hicolor"
    return {
        str(path.relative_to(hicolor)): path.read_bytes()
        for path in sorted(hicolor.glob("*/apps/pushdesk.*"))
    }


def expected_icons() -> dict[str, bytes]:
    icons = {
        f"{size}x{size}/apps/pushdesk.png": (
            ICONS / f"pushdesk-{size}.png"
        ).read_bytes()
        for size in ICON_SIZES
    }
    icons["scalable/apps/pushdesk.svg"] = (ICONS / "pushdesk.svg").read_bytes()
    return icons


@linux_only
def test_install_puts_the_bundle_command_menu_entry_and_icons_in_place(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"

    done = install(archive, home, data_home=str(data))

    assert done.returncode == 0, done.stderr
    installed = home / ".local" / "opt" / "pushdesk"
    assert os.access(installed / "pushdesk", os.X_OK)
    assert (installed / "_internal" / "base_library.zip").read_bytes() == (
        b"the bundle's libraries"
    )
    command = home / ".local" / "bin" / "pushdesk"
    assert command.is_symlink()
    assert command.resolve() == installed / "pushdesk"
    entry = data / "applications" / "pushdesk.desktop"
    assert run_exec_line(entry) == "pushdesk from the bundle: --version\n"
    assert read_entry(entry)["TryExec"] == str(installed / "pushdesk")
    assert installed_icons(data) == expected_icons()
    # XDG_DATA_HOME is honoured: nothing went to the default place.
    assert not (home / ".local" / "share").exists()


@linux_only
@pytest.mark.parametrize("data_home", [None, "relative/share"])
def test_without_an_absolute_xdg_data_home_menu_entry_and_icons_go_to_local_share(
    archive: Path, home: Path, data_home: str | None
) -> None:
    # The XDG spec has a relative XDG_DATA_HOME ignored.
    done = install(archive, home, data_home=data_home)

    assert done.returncode == 0, done.stderr
    data = home / ".local" / "share"
    assert (data / "applications" / "pushdesk.desktop").is_file()
    assert installed_icons(data) == expected_icons()
    assert not (home / "relative").exists()


@linux_only
@needs_validator
def test_the_installed_menu_entry_is_a_valid_desktop_file(
    archive: Path, home: Path
) -> None:
    assert install(archive, home).returncode == 0

    assert validate(home / ".local/share/applications/pushdesk.desktop") == ""


@linux_only
def test_a_prefix_with_spaces_is_quoted_in_the_menu_entry(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "My Programs" / "push desk"

    done = install(archive, home, "--prefix", str(prefix))

    assert done.returncode == 0, done.stderr
    entry = home / ".local/share/applications/pushdesk.desktop"
    assert read_entry(entry)["Exec"] == f'"{prefix}/pushdesk"'
    assert run_exec_line(entry) == "pushdesk from the bundle: --version\n"
    if shutil.which("desktop-file-validate"):
        assert validate(entry) == ""


@linux_only
def test_a_prefix_the_menu_entry_cannot_name_is_refused_before_anything_changes(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    done = install(archive, home, "--prefix", str(tmp_path / "100% pushdesk"))

    assert done.returncode != 0
    assert "choose another --prefix" in done.stderr
    assert not (tmp_path / "100% pushdesk").exists()
    assert not (home / ".local").exists()


@linux_only
def test_uninstall_removes_what_install_made_and_leaves_the_rest(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    others = [
        home / ".local" / "bin" / "other-tool",
        home / ".local" / "opt" / "other-tool" / "other-tool",
        data / "applications" / "other-tool.desktop",
        data / "icons" / "hicolor" / "48x48" / "apps" / "other-tool.png",
    ]
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not pushdesk's")
    assert install(archive, home, data_home=str(data)).returncode == 0

    done = install(archive, home, "--uninstall", data_home=str(data))

    assert done.returncode == 0, done.stderr
    assert not (home / ".local" / "opt" / "pushdesk").exists()
    assert not (home / ".local" / "bin" / "pushdesk").is_symlink()
    assert not (data / "applications" / "pushdesk.desktop").exists()
    assert installed_icons(data) == {}
    assert all(path.read_text() == "not pushdesk's" for path in others)
    # The size folders install.sh made go too, unless someone else uses them.
    assert sorted(p.name for p in (data / "icons" / "hicolor").iterdir()) == ["48x48"]


@linux_only
def test_uninstall_with_nothing_installed_says_so_and_succeeds(
    archive: Path, home: Path
) -> None:
    done = install(archive, home, "--uninstall")

    assert done.returncode == 0, done.stderr
    assert "pushdesk is not installed in" in done.stdout
    assert "nothing to remove" in done.stdout


@linux_only
def test_uninstall_finds_the_prefix_through_the_command_link(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "apps" / "pushdesk"
    assert install(archive, home, f"--prefix={prefix}").returncode == 0
    assert (prefix / "pushdesk").is_file()

    done = install(archive, home, "--uninstall")

    assert done.returncode == 0, done.stderr
    assert not prefix.exists()
    assert not (home / ".local" / "bin" / "pushdesk").is_symlink()


@linux_only
def test_installing_again_replaces_the_previous_bundle(
    archive: Path, home: Path
) -> None:
    assert install(archive, home).returncode == 0
    installed = home / ".local" / "opt" / "pushdesk"
    (installed / "_internal" / "left-from-the-old-version.so").write_text("old")
    (archive / "pushdesk" / "_internal" / "new-in-this-version.so").write_text("new")

    done = install(archive, home)

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (installed / "_internal").iterdir()) == [
        "base_library.zip",
        "new-in-this-version.so",
    ]
    # No half-copied folder is left beside it.
    assert sorted(p.name for p in installed.parent.iterdir()) == ["pushdesk"]


@linux_only
def test_install_refuses_a_folder_it_did_not_make(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "letter.txt").write_text("keep me")

    done = install(archive, home, "--prefix", str(documents))
    undone = install(archive, home, "--uninstall", "--prefix", str(documents))

    assert done.returncode != 0
    assert "install.sh did not make it" in done.stderr
    assert undone.returncode == 1
    assert "installed nothing in" in undone.stderr
    assert sorted(p.name for p in documents.iterdir()) == ["letter.txt"]
    assert not (home / ".local" / "bin" / "pushdesk").exists()


@linux_only
def test_install_does_not_replace_a_pushdesk_command_it_did_not_make(
    archive: Path, home: Path
) -> None:
    # pip install --user pushdesk puts a script there.
    script = home / ".local" / "bin" / "pushdesk"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")

    done = install(archive, home)

    assert done.returncode != 0
    assert "is not a link install.sh made" in done.stderr
    assert script.read_text() == "#!/bin/sh\n"
    assert not (home / ".local" / "opt" / "pushdesk").exists()


@linux_only
def test_uninstall_with_a_wrong_prefix_removes_nothing(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    assert install(archive, home).returncode == 0
    data = home / ".local" / "share"
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))

    done = install(archive, home, "--uninstall", "--prefix", str(tmp_path / "nowhere"))

    assert done.returncode == 1
    assert "nothing was removed" in done.stderr
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == before
    assert installed_icons(data) == expected_icons()


@linux_only
def test_a_pushdesk_link_someone_else_made_is_neither_replaced_nor_removed(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    # A development checkout's pushdesk, linked by hand.
    elsewhere = tmp_path / "checkout" / ".venv" / "bin" / "pushdesk"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text("#!/bin/sh\n")
    link = home / ".local" / "bin" / "pushdesk"
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere)

    done = install(archive, home)
    undone = install(archive, home, "--uninstall")

    assert done.returncode == 1
    assert f"leads to {elsewhere}, which install.sh did not install" in done.stderr
    assert not (home / ".local" / "opt").exists()
    assert undone.returncode == 0, undone.stderr
    assert link.is_symlink()
    assert link.resolve() == elsewhere


@linux_only
def test_installing_into_another_folder_moves_the_installation(
    archive: Path, home: Path, tmp_path: Path
) -> None:
    first = home / ".local" / "opt" / "pushdesk"
    second = tmp_path / "apps" / "pushdesk"
    assert install(archive, home).returncode == 0

    done = install(archive, home, "--prefix", str(second))

    assert done.returncode == 0, done.stderr
    assert f"removed the earlier installation in {first}" in done.stdout
    assert not first.exists()
    assert (home / ".local" / "bin" / "pushdesk").resolve() == second / "pushdesk"
    entry = home / ".local" / "share" / "applications" / "pushdesk.desktop"
    assert read_entry(entry)["TryExec"] == str(second / "pushdesk")


@linux_only
def test_the_installed_copy_of_install_sh_uninstalls_once_the_archive_is_gone(
    archive: Path, home: Path
) -> None:
    assert install(archive, home).returncode == 0
    installed = home / ".local" / "opt" / "pushdesk"
    shutil.rmtree(archive.parent)

    done = as_user(home, [str(installed / "install.sh"), "--uninstall"])

    assert done.returncode == 0, done.stderr
    assert f"uninstalled from {installed}" in done.stdout
    assert not installed.exists()
    assert not (home / ".local" / "bin" / "pushdesk").is_symlink()
    assert installed_icons(home / ".local" / "share") == {}


@linux_only
def test_started_with_sh_it_runs_under_bash(archive: Path, home: Path) -> None:
    done = as_user(home, ["sh", str(archive / "install.sh")])

    assert done.returncode == 0, done.stderr
    assert (home / ".local" / "opt" / "pushdesk" / "pushdesk").is_file()


@linux_only
@pytest.mark.parametrize(
    ("prefix", "complaint"),
    [
        ("/", "top of the disk"),
        ("HOME", "straight into your home folder"),
        ("HOME/.local/bin", "is where the pushdesk command goes"),
        ("LINK", "is a symbolic link"),
    ],
)
def test_a_prefix_that_would_do_harm_is_refused_before_anything_changes(
    archive: Path, home: Path, tmp_path: Path, prefix: str, complaint: str
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    prefix = prefix.replace("HOME", str(home)).replace("LINK", str(tmp_path / "link"))
    before = sorted(p.name for p in home.rglob("*"))

    done = install(archive, home, "--prefix", prefix)

    assert done.returncode == 1
    assert complaint in done.stderr
    assert sorted(p.name for p in home.rglob("*")) == before
    assert list((tmp_path / "real").iterdir()) == []


@linux_only
def test_a_tilde_in_prefix_equals_means_the_home_folder(
    archive: Path, home: Path
) -> None:
    done = install(archive, home, "--prefix=~/apps/pushdesk")

    assert done.returncode == 0, done.stderr
    assert (home / "apps" / "pushdesk" / "pushdesk").is_file()
    assert not (home / "~").exists()


@linux_only
def test_an_unknown_option_is_refused_with_the_usage(archive: Path, home: Path) -> None:
    done = install(archive, home, "--system")

    assert done.returncode == 2
    assert "unknown option --system" in done.stderr
    assert "Usage: install.sh" in done.stderr
    assert not (home / ".local").exists()


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="no shellcheck")
def test_install_sh_passes_shellcheck() -> None:
    checked = subprocess.run(
        ["shellcheck", str(LINUX / "install.sh")], capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stdout


# --- The CI workflow for Windows and macOS -------------------------------------


def workflow_job() -> dict[str, object]:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job: dict[str, object] = workflow["jobs"]["bundle"]
    return job


def workflow_runs() -> str:
    steps = workflow_job()["steps"]
    assert isinstance(steps, list)
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_the_bundle_workflow_builds_on_linux_windows_and_macos_with_python_3_11() -> (
    None
):
    job = workflow_job()

    assert job["strategy"] == {
        "fail-fast": False,
        "matrix": {
            "os": ["ubuntu-latest", "windows-latest", "macos-latest"],
            "python": ["3.11"],
        },
    }
    assert job["runs-on"] == "${{ matrix.os }}"


def test_the_bundle_workflow_builds_with_build_sh_and_runs_each_executable() -> None:
    runs = workflow_runs()

    assert "pip install -e '.[test]'" in runs
    assert "bash packaging/build.sh" in runs
    assert "dist/pushdesk/pushdesk.exe" in runs
    assert "dist/pushdesk/pushdesk" in runs
    assert '"$exe" --version' in runs


def test_the_bundle_workflow_uploads_what_it_built() -> None:
    steps = workflow_job()["steps"]
    assert isinstance(steps, list)

    [upload] = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload")]
    assert upload["with"]["if-no-files-found"] == "error"
    assert upload["with"]["path"] == "pushdesk-dist-${{ runner.os }}.tar"
    assert 'tar -cf "pushdesk-dist-$RUNNER_OS.tar" -C dist .' in workflow_runs()
