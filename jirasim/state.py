"""The simulator's state: configuration, records, id counters and lookups."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from jirasim.errors import JiraError
from jirasim.model import (
    PERMISSIONS,
    ChangelogEntry,
    FieldDef,
    FieldKind,
    Issue,
    IssueType,
    Option,
    Project,
    Status,
    StatusCategory,
    User,
)

Clock = Callable[[], datetime]

CUSTOM_KINDS: frozenset[str] = frozenset(
    {"string", "number", "option", "array:option", "array:string", "date", "datetime", "user"}
)
PRIORITIES: list[tuple[str, str]] = [
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
]
RESOLUTION_DONE = ("10000", "Done")


def utc_now() -> datetime:
    return datetime.now(UTC)


def system_fields() -> list[FieldDef]:
    return [
        FieldDef("summary", "Summary", "string"),
        FieldDef("description", "Description", "string"),
        FieldDef("issuetype", "Issue Type", "issuetype"),
        FieldDef("project", "Project", "project"),
        FieldDef("status", "Status", "status", settable=False),
        FieldDef("priority", "Priority", "priority"),
        FieldDef("labels", "Labels", "array:string"),
        FieldDef("assignee", "Assignee", "user"),
        FieldDef("reporter", "Reporter", "user"),
        FieldDef("creator", "Creator", "user", settable=False),
        FieldDef("duedate", "Due date", "date"),
        FieldDef("created", "Created", "datetime", settable=False),
        FieldDef("updated", "Updated", "datetime", settable=False),
        FieldDef("resolution", "Resolution", "resolution", settable=False),
        FieldDef("resolutiondate", "Resolved", "datetime", settable=False),
        FieldDef("comment", "Comment", "comments", settable=False),
    ]


class SimState:
    """Everything one simulated Jira instance knows, with deterministic ids."""

    def __init__(self, *, clock: Clock = utc_now, flavor: str = "cloud") -> None:
        self.clock = clock
        self.flavor = flavor
        # Like Jira's index: search does not see an issue younger than this yet.
        self.search_lag = timedelta(0)
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.issue_types: dict[str, IssueType] = {}
        self.statuses: dict[str, Status] = {}
        self.fields: dict[str, FieldDef] = {f.id: f for f in system_fields()}
        self.required: dict[tuple[str, str], set[str]] = {}
        self.issues: dict[str, Issue] = {}
        self.key_index: dict[str, str] = {}
        self.changelog: list[ChangelogEntry] = []
        self.roles: set[str] = {"Administrators", "Developers", "Users", "Service Desk Team"}
        self.groups: set[str] = {"jira-administrators", "jira-software-users", "jira-users"}
        self._ids = {
            name: itertools.count(start)
            for name, start in {
                "project": 10000,
                "issuetype": 10000,
                "status": 10000,
                "customfield": 10010,
                "option": 10100,
                "issue": 10000,
                "comment": 10000,
                "changelog": 10000,
                "remotelink": 10000,
            }.items()
        }

    def next_id(self, kind: str) -> str:
        return str(next(self._ids[kind]))

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # configuration

    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        tokens: Iterable[str] = (),
        permissions: Iterable[str] | None = None,
        account_id: str | None = None,
        active: bool = True,
        account_type: str = "atlassian",
    ) -> User:
        perms = set(PERMISSIONS) if permissions is None else set(permissions)
        unknown = perms - set(PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        user = User(
            name=name,
            email=email or f"{name}@example.com",
            display_name=display_name or name,
            account_id=account_id or hashlib.sha1(name.encode()).hexdigest()[:24],
            tokens=set(tokens),
            permissions=perms,
            active=active,
            account_type=account_type,
        )
        self.users[name] = user
        return user

    def add_issue_type(self, name: str, description: str = "") -> IssueType:
        for it in self.issue_types.values():
            if it.name.lower() == name.lower():
                return it
        it = IssueType(self.next_id("issuetype"), name, description)
        self.issue_types[it.id] = it
        return it

    def add_status(self, name: str, category: StatusCategory = "indeterminate") -> Status:
        for st in self.statuses.values():
            if st.name.lower() == name.lower():
                return st
        st = Status(self.next_id("status"), name, category)
        self.statuses[st.id] = st
        return st

    def add_project(
        self,
        key: str,
        name: str | None = None,
        issue_types: Iterable[str] = ("Task",),
        type_key: str = "software",
    ) -> Project:
        if key in self.projects:
            raise ValueError(f"project {key} exists")
        ids = [self.add_issue_type(n).id for n in issue_types]
        project = Project(self.next_id("project"), key, name or key, ids, type_key=type_key)
        self.projects[key] = project
        return project

    def add_field(
        self, name: str, kind: str, options: Iterable[str] = (), field_id: str | None = None
    ) -> FieldDef:
        if kind not in CUSTOM_KINDS:
            raise ValueError(f"unknown field kind {kind!r}; one of {sorted(CUSTOM_KINDS)}")
        fid = field_id or f"customfield_{self.next_id('customfield')}"
        fdef = FieldDef(fid, name, _as_kind(kind), custom=True)
        fdef.options = [Option(self.next_id("option"), v) for v in options]
        self.fields[fid] = fdef
        return fdef

    def set_required(self, project_key: str, issue_type: str, field_ids: Iterable[str]) -> None:
        project = self.project(project_key)
        it = self.issue_type_by_name(issue_type) or self.issue_types.get(issue_type)
        if it is None:
            raise ValueError(f"unknown issue type {issue_type}")
        ids = {self.field_by_name_or_id(f).id for f in field_ids}
        self.required[(project.id, it.id)] = ids

    # lookups

    def project(self, id_or_key: str) -> Project:
        found = self.projects.get(id_or_key.upper())
        if found is None:
            found = next((p for p in self.projects.values() if p.id == id_or_key), None)
        if found is None:
            raise JiraError(404, f"No project could be found with key '{id_or_key}'.")
        return found

    def project_by_id(self, project_id: str) -> Project:
        return next(p for p in self.projects.values() if p.id == project_id)

    def issue_type_by_name(self, name: str) -> IssueType | None:
        return next((t for t in self.issue_types.values() if t.name.lower() == name.lower()), None)

    def status_by_name(self, name: str) -> Status | None:
        return next((s for s in self.statuses.values() if s.name.lower() == name.lower()), None)

    def initial_status(self) -> Status:
        new = [s for s in self.statuses.values() if s.category == "new"]
        return (new or list(self.statuses.values()))[0]

    def field_by_name_or_id(self, name_or_id: str) -> FieldDef:
        if name_or_id in self.fields:
            return self.fields[name_or_id]
        for f in self.fields.values():
            if f.name.lower() == name_or_id.lower():
                return f
        raise ValueError(f"unknown field {name_or_id}")

    def required_fields(self, project: Project, issue_type: IssueType) -> set[str]:
        return {"summary", "issuetype", "project"} | self.required.get(
            (project.id, issue_type.id), set()
        )

    def find_user(self, ident: str) -> User | None:
        ident_l = ident.lower()
        for user in self.users.values():
            if ident_l in (user.name.lower(), user.email.lower(), user.account_id.lower()):
                return user
        return None

    def user(self, ident: str | None) -> User:
        """The named user, or the default actor of simulated UI actions."""
        if ident is None:
            humans = [u for u in self.users.values() if "integration" not in u.name]
            if humans or self.users:
                return (humans or list(self.users.values()))[0]
            return self.add_user("admin", display_name="Jira Admin")
        found = self.find_user(ident)
        if found is None:
            raise JiraError(404, f"The user named '{ident}' does not exist.")
        return found

    def find_issue(self, id_or_key: str) -> Issue | None:
        if id_or_key in self.issues:
            return self.issues[id_or_key]
        issue_id = self.key_index.get(id_or_key.upper())
        return self.issues.get(issue_id) if issue_id else None

    def issue(self, id_or_key: str) -> Issue:
        found = self.find_issue(id_or_key)
        if found is None:
            raise JiraError(404, "Issue does not exist or you do not have permission to see it.")
        return found


def _as_kind(kind: str) -> FieldKind:
    kinds: dict[str, FieldKind] = {
        "string": "string",
        "number": "number",
        "option": "option",
        "array:option": "array:option",
        "array:string": "array:string",
        "date": "date",
        "datetime": "datetime",
        "user": "user",
    }
    return kinds[kind]


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format: `2026-11-23T19:42:00.000+0000`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
