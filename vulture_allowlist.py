"""Names vulture cannot see used, for the dead-code check in .ci/run (`vulture ...
vulture_allowlist.py`). Only what is used from outside Python's view: keep it short, and say
why for each. discord.py's hooks and decorated commands are in pyproject.toml [tool.vulture].
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

_ = (  # vulture counts these as uses; `_` itself is never reported
    # Class attributes of discord.py's own, set to point it at the test emulator (bot.py,
    # benchmarks/floor_bot.py) and a select's placeholder set after building it.
    _.BASE,
    _.DEFAULT_GATEWAY,
    _.placeholder,
    # Fields of the records read from core/hotlines.json (a category's value, an entry's
    # languages and verification date, a country's fallback note): kept with each sourced
    # entry even where no message shows them.
    _.DIRECTORY,
    _.languages,
    _.verified,
    _.fallback_note,
    # Which directory entries a guidance cites: the routing tests check every cited link
    # against these.
    _.entry_ids,
    # Guidance.render(): the guidance as one plain text; the guidance tests (five files) read
    # it. The messages themselves are built from headline and lines (t13-shape's ui/ may use it).
    _.render,
    # ReportAccepted.case_number: the outcome names the case by number as well as by id
    # (tests check numbers are never handed out twice).
    _.case_number,
    # vigil_ops: enum members looked up by value (FailureKind.of, FeedbackOutcome(state),
    # interaction_kind's returns count only some), the Store conformance check for mypy, and
    # VigilBot.on_interaction (discord.py calls a client's on_<event> methods itself).
    _.COMMAND,
    _.CONTEXT_MENU,
    _.COMPONENT,
    _.MODAL,
    _.AUTOCOMPLETE,
    _.SENT,
    _.DMS_CLOSED,
    _.FAILED,
    _.MESSAGE_GONE,
    _.MISSING_PERMISSION,
    _.CHANNEL_GONE,
    _.NETWORK,
    _.INTERNAL,
    _._conforms,
    _.on_interaction,
    # t18-dash: read by the dashboard's Jinja templates (dashboard/templates/*.html).
    _.reports_about_total,
    _.reports_by_total,
    _.case_numbers,
    _.duration,
    # t15-followup: the case timeline's words, read by dashboard/templates/case.html.
    _.delivery_tag,
    _.reminder_line,
    # t19-storms: read by discord.py's InteractionResponse.is_done() (ui/interaction_http.py).
    _._response_type,
    # dashboard/words.py: the web's names for core/case_words.py's maps (tests compare them).
    _.TIMEOUT_KEYS,
    _.BAN_DELETE_KEYS,
    # Called by name by the test suite's fork server before it forks bots (PRODUCT_WARMUPS in
    # emulator/forkserver.py, which vulture does not read).
    _.compile_templates,
)
