"""The operator's settings, checked and stored with the data."""

from pushdesk import settings as catalogue
from pushdesk.errors import InvalidInput
from pushdesk.events import EventHub, SettingsChanged
from pushdesk.log import STORE
from pushdesk.settings import OperatorSettings, ReminderDefaults
from pushdesk.store import Store


class SettingsService:
    def __init__(self, store: Store, hub: EventHub) -> None:
        self._store = store
        self._hub = hub

    def current(self) -> OperatorSettings:
        """The saved settings; defaults for those never saved."""
        texts = self._store.settings.get_many(s.key for s in catalogue.CATALOGUE)
        return catalogue.from_texts(texts, damaged=_warn_damaged)

    def problems(self, settings: OperatorSettings) -> dict[str, str]:
        """What keeps these settings from being saved, by field name."""
        return catalogue.problems(settings)

    def save(self, settings: OperatorSettings) -> tuple[str, ...]:
        """Store the settings and tell everyone which changed; InvalidInput
        (naming the field) if one is not acceptable, and nothing is saved."""
        if problems := catalogue.problems(settings):
            name, message = next(iter(problems.items()))
            raise InvalidInput(message, name)
        checked = catalogue.normalised(settings)

        changed = catalogue.changed_names(self.current(), checked)
        if not changed:
            return ()
        texts = catalogue.to_texts(checked)
        self._store.settings.set_many(
            {
                catalogue.BY_NAME[name].key: texts[catalogue.BY_NAME[name].key]
                for name in changed
            }
        )
        self._hub.publish(SettingsChanged(changed))
        return changed

    def defaults(self) -> ReminderDefaults:
        """What the reminder dialog starts a new reminder with."""
        current = self.current()
        return ReminderDefaults(
            int(current.default_ttl.total_seconds()), current.default_urgency
        )


def _warn_damaged(key: str) -> None:
    STORE.warning("the saved setting %s cannot be read; using its default", key)
