#!/usr/bin/env bash
# Install pushdesk for the current user from the unpacked archive, which holds
# pushdesk/ (the bundle), pushdesk.desktop, icons/ and this script:
#
#   the bundle      ~/.local/opt/pushdesk, or --prefix DIR
#   the command     ~/.local/bin/pushdesk, a link to the bundle's executable
#   the menu entry  $XDG_DATA_HOME/applications/pushdesk.desktop
#   the icons       $XDG_DATA_HOME/icons/hicolor/NxN/apps/pushdesk.png
#
# ($XDG_DATA_HOME is ~/.local/share unless set.) A copy of this script goes
# into the installed folder, so `~/.local/opt/pushdesk/install.sh --uninstall`
# removes them again once the archive is gone. Nothing here needs root.

# Run with bash even when started as `sh install.sh`.
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Written into the installed bundle: a folder without it was not made here,
# so neither installing nor uninstalling ever deletes it.
marker=.installed-by-pushdesk
bin_dir="$HOME/.local/bin"
bin_link="$bin_dir/pushdesk"
staging=""
exec_line=""
previous=""

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

Installing into another folder moves an installation made here before.
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
    # A literal ~ is meant: --prefix=~/x reaches us unexpanded.
    # shellcheck disable=SC2088
    case "$1" in
        /*) printf '%s\n' "${1%/}" ;;
        "~") printf '%s\n' "$HOME" ;;
        "~/"*)
            local rest=${1#"~/"}
            printf '%s\n' "$HOME/${rest%/}"
            ;;
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

# The folder of the installation ~/.local/bin/pushdesk leads to, if it is one
# install.sh made (the folder may since have been deleted by hand).
linked_prefix() {
    local target
    [ -L "$bin_link" ] || return 1
    target=$(readlink "$bin_link")
    [ "${target##*/}" = pushdesk ] || return 1
    target=${target%/pushdesk}
    if owned_by_us "$target" || [ ! -e "$target" ]; then
        printf '%s\n' "$target"
    else
        return 1
    fi
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
    if [ -L "$bin_link" ]; then
        if previous=$(linked_prefix); then
            :
        elif [ -e "$bin_link" ]; then
            die "$bin_link leads to $(readlink "$bin_link"), which install.sh did not install; remove it first"
        fi
    fi

    # Copied beside the target first, so a failed copy leaves the previous
    # installation as it was.
    mkdir -p "$(dirname "$prefix")"
    staging="$prefix.installing.$$"
    cp -a "$here/pushdesk" "$staging"
    cp "$here/install.sh" "$staging/install.sh"
    touch "$staging/$marker"
    rm -rf "$prefix"
    mv "$staging" "$prefix"
    staging=""

    mkdir -p "$bin_dir"
    ln -sfn "$prefix/pushdesk" "$bin_link"

    # One installation at a time: the menu entry and the command now lead
    # here, so an earlier one elsewhere would only take up space.
    if [ -n "$previous" ] && [ "$previous" != "$prefix" ] && owned_by_us "$previous"; then
        rm -rf "$previous"
        echo "removed the earlier installation in $previous"
    fi
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

check_prefix() {
    [ -n "$prefix" ] || die "--prefix / would put pushdesk's files at the top of the disk; choose a folder"
    [ "$prefix" != "$HOME" ] || die "--prefix would put pushdesk's files straight into your home folder; choose a folder in it"
    [ "$prefix" != "$bin_dir" ] || die "--prefix $bin_dir is where the pushdesk command goes; choose another folder"
    [ ! -L "$prefix" ] || die "$prefix is a symbolic link; give the folder it leads to"
}

install_all() {
    # Checked before anything changes.
    check_prefix
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

# The menu entry, if it starts the program in $prefix.
entry_is_ours() {
    local entry="$data/applications/pushdesk.desktop"
    [ -f "$entry" ] && grep -qxF "TryExec=$prefix/pushdesk" "$entry"
}

remove_icons() {
    local folder
    rm -f "$data"/icons/hicolor/*/apps/pushdesk.png "$data/icons/hicolor/scalable/apps/pushdesk.svg"
    # The size folders install.sh may have made, if nothing else is in them.
    for folder in "$data"/icons/hicolor/*/apps; do
        rmdir "$folder" 2>/dev/null && rmdir "${folder%/apps}" 2>/dev/null
    done
    return 0
}

uninstall_all() {
    local found
    if [ -z "$prefix_given" ]; then
        # Where the command leads, else the installed copy of this script.
        if found=$(linked_prefix); then
            prefix=$found
        elif owned_by_us "$here"; then
            prefix=$here
        fi
    fi

    local link=no entry=no bundle=no
    if [ -L "$bin_link" ] && [ "$(readlink "$bin_link")" = "$prefix/pushdesk" ]; then
        link=yes
    fi
    if entry_is_ours; then
        entry=yes
    fi
    if owned_by_us "$prefix"; then
        bundle=yes
    fi
    if [ "$link$entry$bundle" = nonono ]; then
        if [ -n "$prefix_given" ]; then
            die "install.sh installed nothing in $prefix; nothing was removed"
        fi
        echo "pushdesk is not installed in $prefix; nothing to remove"
        return
    fi

    if [ "$link" = yes ]; then
        rm -f "$bin_link"
    fi
    if [ "$entry" = yes ]; then
        rm -f "$data/applications/pushdesk.desktop"
    fi
    remove_icons
    if [ "$bundle" = yes ]; then
        rm -rf "$prefix"
    fi
    echo "pushdesk is uninstalled from $prefix; its data folder is kept"
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
