"""Click's own texts that a bench user reads, marked here (plural ones form by form) so the catalogue holds them (:mod:`bench.cli.clicktr`).

Click looks them up through gettext as it writes them; :func:`bench.cli.clicktr.speak_click` makes
that lookup ours. Each msgid is Click's exactly (Click 8). Texts only a developer sees (a command
declared wrongly) are left out.
"""

from __future__ import annotations

from drivers.i18n import N_

WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Aborted!"),
    N_("deprecated"),
    N_("required"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("Missing command."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("unknown error"),
    N_("Could not open file {filename!r}: {message}"),
    N_("Option {name!r} does not take a value."),
    N_("Argument {name!r} takes {nargs} values."),
    N_("Choose from:\n\t{choices}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a file."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."),
    N_("{name} {filename!r} is not executable."),
    N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."),
    N_("Error: invalid input"),
    # Click's plural texts, each form on its own (Chinese has one form; bench.cli.clicktr picks the form).
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Did you mean {possibility}?"),
    N_("(Did you mean one of: {possibilities}?)"),
    N_("Takes {nargs} values but 1 was given."),
    N_("Takes {nargs} values but {len} were given."),
    N_("Option {name!r} requires an argument."),
    N_("Option {name!r} requires {nargs} arguments."),
    N_("{value!r} is not {choice}."),
    N_("{value!r} is not one of {choices}."),
    N_("{len_type} values are required, but {len_value} was given."),
    N_("{len_type} values are required, but {len_value} were given."),
    # the names of Click's number types, in "{value!r} is not a valid {number_type}."
    N_("integer"),
    N_("float"),
    N_("integer range"),
    N_("float range"),
)


__all__ = ["WORDS"]
