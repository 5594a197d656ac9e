#!/usr/bin/env bash
# Install pushdesk for the current user from the unpacked archive, which holds
# pushdesk/ (the bundle), pushdesk.desktop, icons/ and this script:
#
#   the bundle      ~/.local/opt/pushdesk, or --prefix DIR
#   the command     ~/.local/bin/pushdesk, a link to the bundle's executable
#   the menu entry  $XDG_DATA_HOME/applications/pushdesk.desktop
#   the icons       $XDG_DATA_HOME/icons/hicolor/NxN/apps/pushdesk.png
#
# ($XDG_DATA_HOME is ~/.local/share unless set.) `install.sh --uninstall`
# removes them again. Nothing here needs root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Written into the installed bundle: a folder without it was not made here,
# so neither installing nor uninstalling ever deletes it.
marker=.installed-by-pushdesk
bin_dir="$HOME/.local/bin"
bin_link="$bin_dir/pushdesk"
staging=""
exec_line=""

usage() {
    cat <<EOF
Usage: install.sh [--prefix DIR] [--uninstall]

Installs pushdesk for you alone: the program into DIR (default
~/.local/opt/pushdesk), the command ~/.local/bin/pushdesk, and the menu entry
and icons under \$XDG_DATA_HOME (default ~/.local/share).

  --prefix DIR   where the program goes (give it to --uninstall as well if
                 ~/.local/bin/pushdesk no longer points there)
  --uninstall    remove what install.sh installed; pushdesk's own data
                 (settings, devices, reminders) stays
EOF
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

data_home() {
    # The XDG base directory spec says a relative path is to be ignored.
    case "${XDG_DATA_HOME:-}" in
        /*) printf '%s\n' "${XDG_DATA_HOME%/}" ;;
        *) printf '%s\n' "$HOME/.local/share" ;;
    esac
}

absolute() {
    case "$1" in
        /*) printf '%s\n' "${1%/}" ;;
        *) printf '%s\n' "$PWD/${1%/}" ;;
    esac
}

# The Exec= value that starts $1. Double quotes allow spaces and most other
# characters; the few that would need escapes inside them are refused.
exec_value() {
    case "$1" in
        *[\"\`\$\\%]* | *$'\n'*)
            die "the folder $1 has one of \" \` \$ \\ % or a line break in its name; choose another --prefix" ;;
        *[!A-Za-z0-9/._+-]*) printf '"%s"\n' "$1" ;;
        *) printf '%s\n' "$1" ;;
    esac
}

owned_by_us() {
    [ -e "$1/$marker" ]
}

# True for a folder install.sh may replace: none yet, an empty one, or ours.
replaceable() {
    if [ ! -e "$1" ] || owned_by_us "$1"; then
        return 0
    fi
    [ -d "$1" ] && [ -r "$1" ] && [ -z "$(ls -A "$1")" ]
}

install_bundle() {
    [ -x "$here/pushdesk/pushdesk" ] \
        || die "$here/pushdesk/pushdesk is missing; run install.sh from the unpacked archive"
    if ! replaceable "$prefix"; then
        die "$prefix exists and install.sh did not make it; choose another --prefix"
    fi
    if [ -e "$bin_link" ] && [ ! -L "$bin_link" ]; then
        die "$bin_link exists and is not a link install.sh made; remove it first"
    fi

    # Copied beside the target first, so a failed copy leaves the previous
    # installation as it was.
    mkdir -p "$(dirname "$prefix")"
    staging="$prefix.installing.$$"
    cp -a "$here/pushdesk" "$staging"
    touch "$staging/$marker"
    rm -rf "$prefix"
    mv "$staging" "$prefix"
    staging=""

    mkdir -p "$bin_dir"
    ln -sfn "$prefix/pushdesk" "$bin_link"
}

install_menu_entry() {
    local apps="$data/applications"
    mkdir -p "$apps"
    # The absolute path, not "pushdesk": the desktop session's PATH often
    # lacks ~/.local/bin.
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
            Exec=*) printf 'Exec=%s\n' "$exec_line" ;;
            TryExec=*) printf 'TryExec=%s\n' "$prefix/pushdesk" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done <"$here/pushdesk.desktop" >"$apps/pushdesk.desktop.new"
    mv "$apps/pushdesk.desktop.new" "$apps/pushdesk.desktop"
}

install_icons() {
    local hicolor="$data/icons/hicolor" icon size
    for icon in "$here"/icons/pushdesk-*.png; do
        size=${icon##*/pushdesk-}
        size=${size%.png}
        case "$size" in
            '' | *[!0-9]*) continue ;; # the paused tray icon, or no match at all
        esac
        mkdir -p "$hicolor/${size}x$size/apps"
        cp "$icon" "$hicolor/${size}x$size/apps/pushdesk.png"
    done
    if [ -f "$here/icons/pushdesk.svg" ]; then
        mkdir -p "$hicolor/scalable/apps"
        cp "$here/icons/pushdesk.svg" "$hicolor/scalable/apps/pushdesk.svg"
    fi
    # Icon caches compare their time with the theme folder's.
    touch "$hicolor"
}

install_all() {
    # Checked before anything changes.
    exec_line=$(exec_value "$prefix/pushdesk")
    install_bundle
    install_menu_entry
    install_icons
    echo "pushdesk is installed in $prefix"
    echo "  command:    $bin_link"
    echo "  menu entry: $data/applications/pushdesk.desktop"
    case ":$PATH:" in
        *":$bin_dir:"*) ;;
        *) echo "$bin_dir is not on your PATH; start pushdesk from the menu or as $bin_link" ;;
    esac
}

uninstall_all() {
    local target
    if [ -L "$bin_link" ]; then
        target=$(readlink "$bin_link")
        if [ -z "$prefix_given" ] && [ "${target##*/}" = pushdesk ]; then
            prefix=${target%/pushdesk}
        fi
        if [ "$target" = "$prefix/pushdesk" ]; then
            rm -f "$bin_link"
        fi
    fi
    rm -f "$data/applications/pushdesk.desktop"
    rm -f "$data"/icons/hicolor/*/apps/pushdesk.png "$data/icons/hicolor/scalable/apps/pushdesk.svg"
    if owned_by_us "$prefix"; then
        rm -rf "$prefix"
    elif [ -e "$prefix" ]; then
        echo "install.sh: left $prefix: install.sh did not make it" >&2
    fi
    echo "pushdesk is uninstalled; its data folder is kept"
}

cleanup() {
    if [ -n "$staging" ]; then
        rm -rf "$staging"
    fi
}
trap cleanup EXIT

prefix="$HOME/.local/opt/pushdesk"
prefix_given=""
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            [ $# -ge 2 ] || die "--prefix needs a folder"
            prefix=$2
            prefix_given=yes
            shift 2
            ;;
        --prefix=*)
            prefix=${1#--prefix=}
            prefix_given=yes
            shift
            ;;
        --uninstall)
            action=uninstall
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "install.sh: unknown option $1" >&2
            usage >&2
            exit 2
            ;;
    esac
done
[ -n "$prefix" ] || die "--prefix needs a folder"
prefix=$(absolute "$prefix")
data=$(data_home)

if [ "$action" = uninstall ]; then
    uninstall_all
else
    install_all
fi
