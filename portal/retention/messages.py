"""User-facing messages of the retention package (Korean msgid, English in the catalog)."""

from flask_babel import lazy_gettext as _l

from portal.retention import errors as e

PURGE_DATE_EARLIER = _l(
    "기준일이 마지막 파기 실행일(%(last)s)보다 이릅니다. 아무것도 파기하지 않았습니다."
)
PURGE_DATE_IN_FUTURE = _l(
    "기준일이 오늘(%(today)s)보다 늦습니다. 보관 기간이 남은 기록을 미리 파기할 수 없습니다. "
    "아무것도 파기하지 않았습니다."
)


def message_for(exc: e.RetentionError) -> str:
    if isinstance(exc, e.PurgeDateEarlier):
        return str(PURGE_DATE_EARLIER % {"last": exc.last.isoformat()})
    if isinstance(exc, e.PurgeDateInFuture):
        return str(PURGE_DATE_IN_FUTURE % {"today": exc.today.isoformat()})
    raise TypeError(type(exc))
