"""The Devices tab, offscreen, on a real database: every action through the
page's own actions, shortcuts and dialog buttons."""

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QInputDialog,
    QMessageBox,
    QPushButton,
)
from pytestqt.qtbot import QtBot

from pushdesk.domain import (
    CredentialsRefused,
    ReminderDraft,
    Subscription,
    SubscriptionInput,
    Target,
    outcome_name,
)
from pushdesk.scheduling.hygiene import DeviceHygiene
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.sends import Settlement
from pushdesk.ui.dialogs.groups import GroupsDialog
from pushdesk.ui.paged import PAGE_SIZE
from pushdesk.ui.pages.devices import DevicesPage
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH

FIREFOX = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

NAME, BROWSER, GROUPS, ADDED, LAST_SEEN, STATUS, FAILURES = range(7)


def add(
    services: Services,
    name: str | None = None,
    *,
    user_agent: str | None = None,
    groups: Sequence[str] = (),
) -> Subscription:
    number = services.subscriptions.count() + 1
    subscription = SubscriptionInput(
        endpoint=f"https://push.example.net/send/{number}",
        p256dh=P256DH,
        auth=AUTH,
        label=name,
        user_agent=user_agent,
    )
    stored, _ = services.subscriptions.register(subscription)
    if groups:
        stored = services.subscriptions.set_groups(stored.id, groups)
    return stored


@pytest.fixture
def page(qtbot: QtBot, services: Services) -> Iterator[DevicesPage]:
    """The page, refreshed on every event (the window batches them in bursts)."""
    shown = DevicesPage(services)
    qtbot.addWidget(shown)
    shown.resize(1000, 500)
    shown.show()
    qtbot.waitExposed(shown)
    unsubscribe = services.hub.subscribe(lambda _event: shown.refresh())
    yield shown
    unsubscribe()


def cell(page: DevicesPage, row: int, column: int, role: int = 0) -> object:
    model = page.model
    return model.data(model.index(row, column), role or Qt.ItemDataRole.DisplayRole)


def names(page: DevicesPage) -> list[object]:
    return [cell(page, row, NAME) for row in range(page.model.rowCount())]


def select(page: DevicesPage, name: str) -> None:
    page.view.selectRow(names(page).index(name))


def message_box(page: DevicesPage) -> QMessageBox:
    [box] = [box for box in page.findChildren(QMessageBox) if box.isVisible()]
    return box


def ok_button(dialog: QInputDialog | GroupsDialog) -> QPushButton:
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    return buttons.button(QDialogButtonBox.StandardButton.Ok)


def flag(store: Store, clock: FakeClock, device: Subscription) -> None:
    """A real send the push service refuses for our credentials."""
    reminder = store.reminders.add(ReminderDraft("t", "m", None, clock.now), clock.now)
    store.reminders.fire(reminder, [device.id], clock.now, late=False, next_due=None)
    [job] = store.sends.claim_ready("test", clock.now, limit=1)
    refused = CredentialsRefused(403, "key mismatch")
    store.sends.settle([Settlement(job, refused, outcome_name(refused))], clock.now)


class TestTable:
    def test_shows_name_browser_groups_and_status(
        self, page: DevicesPage, services: Services
    ) -> None:
        add(services, "Kitchen tablet", user_agent=FIREFOX, groups=["Home", "Office"])
        add(services)
        page.refresh()

        assert names(page) == ["(unnamed device)", "Kitchen tablet"]
        assert cell(page, 1, BROWSER) == "Firefox 128 on Windows 10"
        assert cell(page, 0, BROWSER) == "Unknown browser"
        assert cell(page, 1, GROUPS) == "Home, Office"
        assert cell(page, 1, STATUS) == "Active"
        assert cell(page, 1, FAILURES) == "0"

    def test_status_is_told_by_words_colour_and_icon(
        self, page: DevicesPage, services: Services, store: Store, clock: FakeClock
    ) -> None:
        add(services, "old")
        clock.advance(days=61)
        add(services, "new")
        flag(store, clock, add(services, "refused"))
        page.refresh()

        rows = {name: row for row, name in enumerate(names(page))}
        words = {name: cell(page, row, STATUS) for name, row in rows.items()}
        colours = [
            cell(page, row, STATUS, Qt.ItemDataRole.ForegroundRole)
            for row in rows.values()
        ]
        icons = [
            cell(page, row, STATUS, Qt.ItemDataRole.DecorationRole)
            for row in rows.values()
        ]
        tip = cell(page, rows["refused"], STATUS, Qt.ItemDataRole.ToolTipRole)

        assert words == {"old": "Expired", "new": "Active", "refused": "Flagged"}
        assert all(isinstance(c, QColor) for c in colours)
        assert len({c.name() for c in colours if isinstance(c, QColor)}) == 3
        assert all(isinstance(i, QIcon) and not i.isNull() for i in icons)
        assert len({i.cacheKey() for i in icons if isinstance(i, QIcon)}) == 3
        assert isinstance(tip, str)
        assert "403: key mismatch" in tip

    def test_total_is_announced_whatever_the_filter(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna")
        page.text_filter.setText("nobody")

        with qtbot.waitSignal(page.total_changed) as told:
            add(services, "Ben")

        assert told.args == [2]
        assert page.model.rowCount() == 0
        assert page.empty_label.text() == "No device matches the filter."

    def test_reads_only_the_pages_in_view(
        self, page: DevicesPage, services: Services, store: Store
    ) -> None:
        with store.transaction():
            for number in range(PAGE_SIZE * 3):
                add(services, f"d{number:04}")
        offsets: list[int] = []
        read = page.listing.page

        def spy(offset: int, limit: int) -> list[object]:
            offsets.append(offset)
            return list(read(offset, limit))

        page.listing.page = spy  # type: ignore[method-assign]
        page.refresh()
        page.view.viewport().repaint()
        assert offsets == [0]

        page.view.scrollToBottom()
        page.view.viewport().repaint()
        assert offsets == [0, PAGE_SIZE * 2]


class TestQuietDevices:
    def test_a_warned_device_shows_its_removal_date(
        self, page: DevicesPage, services: Services, store: Store, clock: FakeClock
    ) -> None:
        add(services, "quiet")
        clock.advance(days=1)
        add(services, "expired")
        clock.advance(days=59, hours=12)
        add(services, "active")
        DeviceHygiene(store, services.hub, clock).run_once(clock.now)
        warned = clock.now
        clock.advance(days=1)  # "expired" is quiet now, and not warned yet
        page.refresh()

        rows = {name: row for row, name in enumerate(names(page))}
        removal = (warned + timedelta(days=14)).astimezone().strftime("%Y-%m-%d")
        tip = cell(page, rows["quiet"], STATUS, Qt.ItemDataRole.ToolTipRole)
        assert cell(page, rows["quiet"], STATUS) == f"Warned — removal on {removal}"
        assert cell(page, rows["expired"], STATUS) == "Expired"
        assert cell(page, rows["active"], STATUS) == "Active"
        assert isinstance(tip, str)
        assert "warned by a push" in tip

    def test_warned_has_a_colour_and_icon_of_its_own(
        self, page: DevicesPage, services: Services, store: Store, clock: FakeClock
    ) -> None:
        add(services, "old")
        warned = add(services, "warned")
        clock.advance(days=61)
        add(services, "new")
        store.subscriptions.mark_warned([warned.id], clock.now)
        page.refresh()

        colours = [
            cell(page, row, STATUS, Qt.ItemDataRole.ForegroundRole) for row in range(3)
        ]
        icons = [
            cell(page, row, STATUS, Qt.ItemDataRole.DecorationRole) for row in range(3)
        ]
        assert len({c.name() for c in colours if isinstance(c, QColor)}) == 3
        assert all(isinstance(i, QIcon) and not i.isNull() for i in icons)
        assert len({i.cacheKey() for i in icons if isinstance(i, QIcon)}) == 3

    def test_the_filter_offers_warned_devices(
        self, page: DevicesPage, services: Services, store: Store, clock: FakeClock
    ) -> None:
        add(services, "old")
        warned = add(services, "warned")
        clock.advance(days=61)
        add(services, "new")
        store.subscriptions.mark_warned([warned.id], clock.now)

        page.status_filter.setCurrentIndex(
            page.status_filter.findText("Warned of removal")
        )

        assert names(page) == ["warned"]

    def test_the_quiet_days_setting_applies_at_once(
        self, page: DevicesPage, services: Services, clock: FakeClock
    ) -> None:
        add(services, "phone")
        clock.advance(days=31)
        page.refresh()
        assert cell(page, 0, STATUS) == "Active"

        saved = services.settings.current()
        services.settings.save(
            replace(saved, vapid_subject="mailto:ops@example.org", stale_after_days=30)
        )

        tip = cell(page, 0, STATUS, Qt.ItemDataRole.ToolTipRole)
        assert cell(page, 0, STATUS) == "Expired"
        assert isinstance(tip, str)
        assert "over 30 days" in tip


class TestRename:
    def test_through_the_dialog(self, page: DevicesPage, services: Services) -> None:
        add(services, "old name")
        page.refresh()
        select(page, "old name")

        page.rename_action.trigger()
        dialog = page.findChild(QInputDialog)
        assert dialog is not None
        assert dialog.textValue() == "old name"
        dialog.setTextValue("Kitchen tablet")
        ok_button(dialog).click()

        assert names(page) == ["Kitchen tablet"]

    def test_a_refused_name_is_one_sentence(
        self, page: DevicesPage, services: Services
    ) -> None:
        add(services, "kept")
        page.refresh()
        select(page, "kept")

        dialog = page.rename_selected()
        assert dialog is not None
        dialog.setTextValue("x" * 101)
        ok_button(dialog).click()

        assert message_box(page).text() == "The name is longer than 100 characters."
        assert names(page) == ["kept"]


class TestGroups:
    def test_ticks_existing_groups_and_adds_a_new_one(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna", groups=["Family"])
        services.subscriptions.create_group("Office")
        page.refresh()
        select(page, "Anna")

        page.groups_action.trigger()
        dialog = page.findChild(GroupsDialog)
        assert dialog is not None
        assert dialog.chosen() == ["Family"]
        qtbot.keyClicks(dialog.new_edit, "Kitchen")
        dialog.add_button.click()
        ok_button(dialog).click()

        assert cell(page, 0, GROUPS) == "Family, Kitchen"
        assert services.subscriptions.groups() == ["Family", "Kitchen", "Office"]

    def test_a_name_typed_but_not_added_is_added_on_ok(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")

        dialog = page.edit_groups_of_selected()
        assert dialog is not None
        qtbot.keyClicks(dialog.new_edit, "Kitchen")
        ok_button(dialog).click()

        assert cell(page, 0, GROUPS) == "Kitchen"

    def test_a_bad_name_is_explained_in_the_dialog(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")

        dialog = page.edit_groups_of_selected()
        assert dialog is not None
        qtbot.keyClicks(dialog.new_edit, "Home,Office")
        ok_button(dialog).click()

        assert dialog.isVisible()
        assert (
            dialog.problem_label.text()
            == "'Home,Office': a group name cannot contain a comma."
        )
        assert services.subscriptions.groups() == []

    def test_enter_in_the_name_field_adds_rather_than_closes(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")

        dialog = page.edit_groups_of_selected()
        assert dialog is not None
        qtbot.keyClicks(dialog.new_edit, "Kitchen")
        qtbot.keyClick(dialog.new_edit, Qt.Key.Key_Return)

        assert dialog.isVisible()
        assert dialog.chosen() == ["Kitchen"]
        assert dialog.new_edit.text() == ""


class TestSendTest:
    def test_schedules_a_reminder_for_that_device(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "other")
        anna = add(services, "Anna")
        page.refresh()
        select(page, "Anna")

        with qtbot.waitSignal(page.status_message) as told:
            page.test_action.trigger()

        [reminder] = services.reminders.all()
        assert reminder.target == Target(subscription_ids=(anna.id,))
        assert told.args == ["A test notification is on its way to Anna."]


class TestRemove:
    def test_asks_first_and_cancel_keeps_the_device(
        self, page: DevicesPage, services: Services
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")

        page.remove_action.trigger()
        box = message_box(page)
        box.button(QMessageBox.StandardButton.Cancel).click()

        assert names(page) == ["Anna"]

    def test_remove_button_removes_the_row(
        self, page: DevicesPage, services: Services
    ) -> None:
        add(services, "Anna")
        add(services, "Ben")
        page.refresh()
        select(page, "Anna")

        box = page.remove_selected()
        assert box is not None
        assert "Anna" in box.text()
        [remove] = [b for b in box.buttons() if b.text() == "Remove"]
        remove.click()

        assert names(page) == ["Ben"]
        assert services.subscriptions.count() == 1

    def test_a_device_already_gone_is_one_sentence(
        self, page: DevicesPage, services: Services
    ) -> None:
        anna = add(services, "Anna")
        page.refresh()
        select(page, "Anna")
        box = page.remove_selected()
        assert box is not None
        services.subscriptions.remove_by_operator(anna.id)

        [remove] = [b for b in box.buttons() if b.text() == "Remove"]
        remove.click()

        assert message_box(page).text() == (
            f"There is no device {anna.id}; it may be gone."
        )


class TestActions:
    def test_need_a_selected_device(
        self, page: DevicesPage, services: Services
    ) -> None:
        add(services, "Anna")
        page.refresh()

        assert not any(a.isEnabled() for a in page.device_actions())
        select(page, "Anna")
        assert all(a.isEnabled() for a in page.device_actions())

    def test_are_in_the_context_menu(self, page: DevicesPage) -> None:
        assert page.view.contextMenuPolicy() is Qt.ContextMenuPolicy.ActionsContextMenu
        assert page.view.actions() == page.device_actions()

    @pytest.mark.parametrize(
        ("key", "modifier", "opens"),
        [
            (Qt.Key.Key_F2, Qt.KeyboardModifier.NoModifier, QInputDialog),
            (Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier, GroupsDialog),
            (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier, QMessageBox),
        ],
    )
    def test_shortcuts_open_their_dialog(
        self,
        page: DevicesPage,
        services: Services,
        qtbot: QtBot,
        key: Qt.Key,
        modifier: Qt.KeyboardModifier,
        opens: type,
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")
        page.activateWindow()
        page.view.setFocus()
        qtbot.waitUntil(page.view.hasFocus)

        qtbot.keyClick(page.view, key, modifier)

        assert [w for w in page.findChildren(opens) if w.isVisible()]

    def test_ctrl_t_sends_a_test(
        self, page: DevicesPage, services: Services, qtbot: QtBot
    ) -> None:
        add(services, "Anna")
        page.refresh()
        select(page, "Anna")
        page.activateWindow()
        page.view.setFocus()
        qtbot.waitUntil(page.view.hasFocus)

        qtbot.keyClick(page.view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)

        assert len(services.reminders.all()) == 1


class TestFiltersAndOrder:
    def test_text_group_and_status_filters(
        self, page: DevicesPage, services: Services, clock: FakeClock, qtbot: QtBot
    ) -> None:
        add(services, "Kitchen old", groups=["Home"])
        clock.advance(days=61)
        add(services, "Kitchen new", groups=["Home"])
        add(services, "Office", user_agent=FIREFOX)
        page.refresh()

        qtbot.keyClicks(page.text_filter, "firefox")
        assert names(page) == ["Office"]
        page.text_filter.clear()

        page.group_filter.setCurrentIndex(page.group_filter.findData("Home"))
        assert names(page) == ["Kitchen new", "Kitchen old"]

        page.status_filter.setCurrentIndex(page.status_filter.findText("Expired"))
        assert names(page) == ["Kitchen old"]

    def test_header_sorts_by_name_and_leaves_other_columns_alone(
        self, page: DevicesPage, services: Services
    ) -> None:
        for name in ("banana", "Apple", "cherry"):
            add(services, name)
        page.refresh()
        header = page.view.horizontalHeader()

        page.view.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        assert names(page) == ["Apple", "banana", "cherry"]

        page.view.sortByColumn(BROWSER, Qt.SortOrder.DescendingOrder)
        assert names(page) == ["Apple", "banana", "cherry"]
        assert header.sortIndicatorSection() == NAME
        assert header.sortIndicatorOrder() is Qt.SortOrder.AscendingOrder

    def test_newest_devices_come_first(
        self, page: DevicesPage, services: Services, clock: FakeClock
    ) -> None:
        add(services, "first")
        clock.advance(minutes=1)
        add(services, "second")
        page.refresh()

        assert names(page) == ["second", "first"]

    def test_the_selection_follows_the_device_when_rows_move(
        self, page: DevicesPage, services: Services
    ) -> None:
        anna = add(services, "Anna")
        add(services, "Ben")
        add(services, "Carl")
        page.view.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        select(page, "Ben")

        services.subscriptions.rename(anna.id, "Zoe")

        assert names(page) == ["Ben", "Carl", "Zoe"]
        selected = page.selected()
        assert selected is not None
        assert selected.subscription.label == "Ben"
