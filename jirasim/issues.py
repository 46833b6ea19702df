"""Issue writes, shared by the REST API and the simulated UI actions.

Each write records a changelog entry, bumps `updated` and announces an event.
"""

from __future__ import annotations

from typing import Any

from jirasim.errors import JiraError, forbidden
from jirasim.events import EventKind, EventSink, JiraEvent
from jirasim.fields import FieldValueError, change_strings, coerce
from jirasim.model import (
    SD_PUBLIC_COMMENT,
    ChangeItem,
    ChangelogEntry,
    Comment,
    FieldDef,
    Issue,
    IssueType,
    Project,
    Status,
    User,
)
from jirasim.state import RESOLUTION_DONE, SimState

NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


class IssueService:
    """The write side of the simulated Jira."""

    def __init__(self, state: SimState, sink: EventSink) -> None:
        self.state = state
        self.sink = sink

    # issues

    def create_issue(
        self,
        user: User,
        fields: dict[str, Any],
        *,
        update: dict[str, Any] | None = None,
        properties: list[dict[str, Any]] | None = None,
    ) -> Issue:
        project, issue_type = self._project_and_type(fields)
        if "CREATE_ISSUES" not in user.permissions:
            raise forbidden("create issues in this project")
        values, errors = self._coerce_fields(
            {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        )
        for fid, ops in (update or {}).items():
            for op in ops if isinstance(ops, list) else []:
                if isinstance(op, dict) and "set" in op:
                    self._coerce_one(fid, op["set"], values, errors)
        for fid in sorted(self.state.required_fields(project, issue_type)):
            fdef = self.state.fields[fid]
            if fid not in ("project", "issuetype") and values.get(fid) in (None, [], ""):
                errors.setdefault(
                    fid,
                    "You must specify a summary of the issue."
                    if fid == "summary"
                    else f"{fdef.name} is required.",
                )
        if errors:
            raise JiraError(400, [], errors)
        now = self.state.now()
        values.setdefault("reporter", user.name)
        values.setdefault("priority", "3")
        issue = Issue(
            id=self.state.next_id("issue"),
            key=f"{project.key}-{project.next_number}",
            project_id=project.id,
            issue_type_id=issue_type.id,
            status_id=self.state.initial_status().id,
            created=now,
            updated=now,
            creator=user.name,
            values={k: v for k, v in values.items() if v is not None},
        )
        project.next_number += 1
        for prop in properties or []:
            issue.properties[str(prop["key"])] = prop.get("value")
        self.state.issues[issue.id] = issue
        self.state.key_index[issue.key] = issue.id
        items = [self._item(self.state.fields[f], None, v) for f, v in issue.values.items()]
        entry = self._record(issue, user, items, "create", bump=False)
        self._emit("issue_created", issue, user, "issue_created", changelog=entry)
        return issue

    def edit_issue(
        self,
        user: User,
        issue: Issue,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
        *,
        event_type: str = "issue_updated",
    ) -> ChangelogEntry:
        if "EDIT_ISSUES" not in user.permissions:
            raise forbidden("edit this issue")
        values, errors = self._coerce_fields(fields or {})
        comment_bodies: list[dict[str, Any]] = []
        for fid, ops in (update or {}).items():
            if fid == "comment":
                comment_bodies += [op["add"] for op in ops if isinstance(op, dict) and "add" in op]
                continue
            for op in ops if isinstance(ops, list) else [ops]:
                self._apply_op(issue, fid, op, values, errors)
        if "project" in values:
            errors["project"] = "Use the move operation to change the project."
        if errors:
            raise JiraError(400, [], errors)
        items = self._apply_values(issue, values)
        entry = self._record(issue, user, items, "edit")
        if items:
            kind = "issue_assigned" if [i.field for i in items] == ["assignee"] else event_type
            self._emit("issue_updated", issue, user, kind, changelog=entry)
        for body in comment_bodies:
            self.add_comment(user, issue, str(body.get("body", "")), body.get("visibility"))
        return entry

    def transitions(self, issue: Issue) -> list[tuple[str, Status]]:
        ordered = sorted(self.state.statuses.values(), key=lambda s: int(s.id))
        return [
            (str((n + 1) * 10 + 1), st) for n, st in enumerate(ordered) if st.id != issue.status_id
        ]

    def transition(
        self,
        user: User,
        issue: Issue,
        *,
        transition_id: str | None = None,
        status: str | None = None,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
    ) -> ChangelogEntry:
        if "TRANSITION_ISSUES" not in user.permissions:
            raise forbidden("transition this issue")
        target = None
        for tid, st in self.transitions(issue):
            if tid == transition_id or (status and status.lower() in (st.name.lower(), st.id)):
                target = st
        if target is None:
            if status and self.state.status_by_name(status) is not None:
                target = self.state.status_by_name(status)
            else:
                raise JiraError(
                    400, f"Transition id '{transition_id}' is not valid for this issue."
                )
        assert target is not None
        old = self.state.statuses[issue.status_id]
        values, errors = self._coerce_fields(fields or {})
        if errors:
            raise JiraError(400, [], errors)
        items = self._apply_values(issue, values)
        if target.id != old.id:
            items.append(
                ChangeItem("status", "jira", "status", old.id, old.name, target.id, target.name)
            )
            issue.status_id = target.id
            if target.category == "done" and issue.resolution_id is None:
                rid, rname = RESOLUTION_DONE
                items.append(ChangeItem("resolution", "jira", "resolution", None, None, rid, rname))
                issue.resolution_id, issue.resolution_date = rid, self.state.now()
            elif target.category != "done" and issue.resolution_id is not None:
                rid, rname = RESOLUTION_DONE
                items.append(ChangeItem("resolution", "jira", "resolution", rid, rname, None, None))
                issue.resolution_id = issue.resolution_date = None
        entry = self._record(issue, user, items, "transition")
        if items:
            event_type = _transition_event(old, target)
            self._emit("issue_updated", issue, user, event_type, changelog=entry)
        if update:
            self.edit_issue(user, issue, None, update)
        return entry

    def move_issue(
        self, user: User, issue: Issue, project_key: str, issue_type: str | None = None
    ) -> ChangelogEntry:
        if "MOVE_ISSUES" not in user.permissions:
            raise forbidden("move this issue")
        target = self.state.project(project_key)
        old_project = self.state.project_by_id(issue.project_id)
        if issue_type is not None:
            it = self.state.issue_type_by_name(issue_type)
            if it is None or it.id not in target.issue_type_ids:
                raise JiraError(400, [], {"issuetype": "The issue type selected is invalid."})
        elif issue.issue_type_id in target.issue_type_ids:
            it = self.state.issue_types[issue.issue_type_id]
        else:
            it = self.state.issue_types[target.issue_type_ids[0]]
        old_key, new_key = issue.key, f"{target.key}-{target.next_number}"
        target.next_number += 1
        items = [
            ChangeItem(
                "project",
                "jira",
                "project",
                old_project.id,
                old_project.name,
                target.id,
                target.name,
            ),
            ChangeItem("Key", "jira", "key", None, old_key, None, new_key),
        ]
        if it.id != issue.issue_type_id:
            old_it = self.state.issue_types[issue.issue_type_id]
            items.append(
                ChangeItem("issuetype", "jira", "issuetype", old_it.id, old_it.name, it.id, it.name)
            )
        issue.previous_keys.append(old_key)
        issue.key, issue.project_id, issue.issue_type_id = new_key, target.id, it.id
        self.state.key_index[new_key] = issue.id
        entry = self._record(issue, user, items, "move")
        self._emit("issue_updated", issue, user, "issue_moved", changelog=entry)
        return entry

    def delete_issue(self, user: User, issue: Issue) -> None:
        if "DELETE_ISSUES" not in user.permissions:
            raise forbidden("delete this issue")
        self.state.issues.pop(issue.id, None)
        for key in [issue.key, *issue.previous_keys]:
            self.state.key_index.pop(key, None)
        self._record(issue, user, [], "delete", bump=False)
        self._emit("issue_deleted", issue, user, "issue_deleted")

    def touch(self, user: User, issue: Issue, action: str) -> None:
        """A write without field changes (remote link, property): changelog entry and `updated`."""
        self._record(issue, user, [], action)

    # comments

    def add_comment(
        self,
        user: User,
        issue: Issue,
        body: str,
        visibility: dict[str, Any] | None = None,
        properties: list[dict[str, Any]] | None = None,
    ) -> Comment:
        if "ADD_COMMENTS" not in user.permissions:
            raise forbidden("comment on this issue")
        if not body.strip():
            raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
        now = self.state.now()
        comment = Comment(
            id=self.state.next_id("comment"),
            issue_id=issue.id,
            body=body,
            author=user.name,
            update_author=user.name,
            created=now,
            updated=now,
            visibility=self._visibility(visibility),
            properties={str(p["key"]): p.get("value") for p in properties or []},
        )
        if self.state.project_by_id(issue.project_id).service_desk:
            comment.properties.setdefault(SD_PUBLIC_COMMENT, {"internal": False})
        issue.comments.append(comment)
        self._record(issue, user, [], "comment_created")
        self._emit("comment_created", issue, user, "issue_commented", comment=comment)
        return comment

    def comment(self, issue: Issue, comment_id: str) -> Comment:
        found = next((c for c in issue.comments if c.id == comment_id), None)
        if found is None:
            raise JiraError(404, f"Can not find a comment for the id: {comment_id}.")
        return found

    def edit_comment(
        self,
        user: User,
        issue: Issue,
        comment_id: str,
        body: str,
        visibility: dict[str, Any] | None = None,
    ) -> Comment:
        comment = self.comment(issue, comment_id)
        self._check_comment_right(user, comment, "EDIT")
        comment.body = body
        if visibility is not None:
            comment.visibility = self._visibility(visibility)
        comment.update_author, comment.updated = user.name, self.state.now()
        self._record(issue, user, [], "comment_updated")
        self._emit("comment_updated", issue, user, "issue_comment_edited", comment=comment)
        return comment

    def delete_comment(self, user: User, issue: Issue, comment_id: str) -> None:
        comment = self.comment(issue, comment_id)
        self._check_comment_right(user, comment, "DELETE")
        issue.comments.remove(comment)
        self._record(issue, user, [], "comment_deleted")
        self._emit("comment_deleted", issue, user, "issue_comment_deleted", comment=comment)

    # helpers

    def _project_and_type(self, fields: dict[str, Any]) -> tuple[Project, IssueType]:
        ref = fields.get("project")
        project = None
        if isinstance(ref, dict) and (ref.get("key") or ref.get("id")):
            try:
                project = self.state.project(str(ref.get("key") or ref.get("id")))
            except JiraError:
                project = None
        if project is None:
            raise JiraError(400, [], {"project": "Specify a valid project ID or key"})
        ref = fields.get("issuetype")
        if not isinstance(ref, dict) or not ({"id", "name"} & ref.keys()):
            raise JiraError(400, [], {"issuetype": "Specify an issue type"})
        it = self.state.issue_types.get(str(ref.get("id"))) or self.state.issue_type_by_name(
            str(ref.get("name"))
        )
        if it is None or it.id not in project.issue_type_ids:
            raise JiraError(400, [], {"issuetype": "The issue type selected is invalid."})
        return project, it

    def _coerce_fields(self, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for fid, raw in fields.items():
            self._coerce_one(fid, raw, values, errors)
        return values, errors

    def _coerce_one(
        self, fid: str, raw: Any, values: dict[str, Any], errors: dict[str, str]
    ) -> None:
        fdef = self.state.fields.get(fid)
        if fdef is None or not fdef.settable:
            errors[fid] = NOT_SETTABLE.format(fid)
            return
        try:
            values[fid] = self._coerce_value(fdef, raw)
        except FieldValueError as exc:
            errors[fid] = str(exc)

    def _coerce_value(self, fdef: FieldDef, raw: Any) -> Any:
        if fdef.kind == "issuetype":
            it = None
            if isinstance(raw, dict):
                it = self.state.issue_types.get(str(raw.get("id"))) or (
                    self.state.issue_type_by_name(str(raw.get("name")))
                )
            if it is None:
                raise FieldValueError("The issue type selected is invalid.")
            return it.id
        if fdef.kind == "project":
            return raw
        return coerce(self.state, fdef, raw)

    def _apply_op(
        self, issue: Issue, fid: str, op: Any, values: dict[str, Any], errors: dict[str, str]
    ) -> None:
        if not isinstance(op, dict) or len(op) != 1:
            errors[fid] = "Operation must be one of set, add, remove."
            return
        verb, raw = next(iter(op.items()))
        if verb == "set":
            self._coerce_one(fid, raw, values, errors)
            return
        fdef = self.state.fields.get(fid)
        if fdef is None or not fdef.kind.startswith("array:") or verb not in ("add", "remove"):
            errors[fid] = f"Field '{fid}' does not support operation '{verb}'."
            return
        try:
            (item,) = coerce(self.state, fdef, [raw])
        except FieldValueError as exc:
            errors[fid] = str(exc)
            return
        current = list(values.get(fid, issue.values.get(fid) or []))
        if verb == "add" and item not in current:
            current.append(item)
        elif verb == "remove" and item in current:
            current.remove(item)
        values[fid] = current

    def _apply_values(self, issue: Issue, values: dict[str, Any]) -> list[ChangeItem]:
        items: list[ChangeItem] = []
        for fid, new in values.items():
            fdef = self.state.fields[fid]
            if fid == "issuetype":
                if new == issue.issue_type_id:
                    continue
                if new not in self.state.project_by_id(issue.project_id).issue_type_ids:
                    raise JiraError(400, [], {"issuetype": "The issue type selected is invalid."})
                old_it, new_it = (
                    self.state.issue_types[issue.issue_type_id],
                    self.state.issue_types[new],
                )
                items.append(
                    ChangeItem(
                        "issuetype", "jira", "issuetype", old_it.id, old_it.name, new, new_it.name
                    )
                )
                issue.issue_type_id = new
                continue
            old = issue.values.get(fid)
            if old == new or (old in (None, []) and new in (None, [])):
                continue
            items.append(self._item(fdef, old, new))
            if new in (None, []):
                issue.values.pop(fid, None)
            else:
                issue.values[fid] = new
        return items

    def _item(self, fdef: FieldDef, old: Any, new: Any) -> ChangeItem:
        f_id, f_str = change_strings(self.state, fdef, old)
        t_id, t_str = change_strings(self.state, fdef, new)
        return ChangeItem(
            fdef.name if fdef.custom else fdef.id,
            "custom" if fdef.custom else "jira",
            fdef.id,
            f_id,
            f_str,
            t_id,
            t_str,
        )

    def _record(
        self, issue: Issue, user: User, items: list[ChangeItem], action: str, *, bump: bool = True
    ) -> ChangelogEntry:
        now = self.state.now()
        if bump:
            issue.updated = now
        entry = ChangelogEntry(
            self.state.next_id("changelog"), issue.id, user.name, now, items, action
        )
        issue.changelog.append(entry)
        self.state.changelog.append(entry)
        return entry

    def _emit(
        self,
        kind: EventKind,
        issue: Issue,
        user: User,
        type_name: str,
        *,
        changelog: ChangelogEntry | None = None,
        comment: Comment | None = None,
    ) -> None:
        at = self.state.now()
        self.sink(JiraEvent(kind, issue, user, at, type_name, changelog, comment))

    def _visibility(self, raw: dict[str, Any] | None) -> dict[str, str] | None:
        if not raw:
            return None
        kind, value = raw.get("type"), str(raw.get("value", ""))
        if kind == "role" and value in self.state.roles:
            return {"type": "role", "value": value}
        if kind == "group" and value in self.state.groups:
            return {"type": "group", "value": value}
        if kind == "role":
            message = f"You are currently not a member of the project role: {value}."
        elif kind == "group":
            message = f"Group: {value} does not exist."
        else:
            message = "Visibility type must be 'role' or 'group'."
        raise JiraError(400, [], {"commentLevel": message})

    def _check_comment_right(self, user: User, comment: Comment, verb: str) -> None:
        if f"{verb}_ALL_COMMENTS" in user.permissions:
            return
        if comment.author == user.name and f"{verb}_OWN_COMMENTS" in user.permissions:
            return
        raise forbidden(f"{verb.lower()} this comment")


def _transition_event(old: Status, new: Status) -> str:
    if new.category == "done":
        return "issue_resolved"
    if old.category == "done":
        return "issue_reopened"
    if new.category == "indeterminate":
        return "issue_work_started"
    return "issue_generic"
