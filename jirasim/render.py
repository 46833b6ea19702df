"""JSON shapes as Jira answers them, with `self` links under the simulator's base URL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jirasim import wiki
from jirasim.model import (
    ChangeItem,
    ChangelogEntry,
    Comment,
    FieldDef,
    Issue,
    IssueType,
    Project,
    RemoteLink,
    Status,
    User,
)
from jirasim.state import PRIORITIES, RESOLUTION_DONE, SimState, jira_time

CUSTOM_TYPES = {
    "string": "textfield",
    "number": "float",
    "option": "select",
    "array:option": "multiselect",
    "array:string": "labels",
    "date": "datepicker",
    "datetime": "datetime",
    "user": "userpicker",
}
CATEGORIES = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}
NOT_NAVIGABLE = {"comment"}
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


class Renderer:
    """Renders records for one audience (REST answers or a webhook target's style)."""

    def __init__(self, state: SimState, base_url: str, flavor: str) -> None:
        self.state = state
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/rest/api/2"
        self.flavor = flavor

    def user(self, user: User | str | None, *, with_email: bool = False) -> dict[str, Any] | None:
        """Cloud knows users by `accountId` and hides their e-mail (only `/myself` shows it);
        Server/Data Center by `name` and `key`, e-mail shown."""
        if isinstance(user, str):
            user = self.state.users.get(user)
        if user is None:
            return None
        out: dict[str, Any]
        if self.flavor == "cloud":
            out = {
                "self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id,
            }
        else:
            out = {
                "self": f"{self.api}/user?username={user.name}",
                "name": user.name,
                "key": user.name,
            }
        if self.flavor != "cloud" or with_email:
            out["emailAddress"] = user.email
        out.update(
            avatarUrls={"48x48": f"{self.base}/secure/useravatar?size=large&ownerId={user.name}"},
            displayName=user.display_name,
            active=user.active,
            timeZone=user.time_zone,
        )
        if self.flavor == "cloud":
            out["accountType"] = user.account_type
        return out

    def project(self, project: Project, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": project.type_key,
            "avatarUrls": {"48x48": f"{self.base}/secure/projectavatar?pid={project.id}"},
        }
        if full:
            out.update(
                expand="description,lead,issueTypes,url,projectKeys,permissions,insight",
                description="",
                lead=self.user(project.lead),
                issueTypes=[
                    self.issue_type(self.state.issue_types[i]) for i in project.issue_type_ids
                ],
                simplified=False,
                style="classic",
                isPrivate=False,
            )
        return out

    def issue_type(self, it: IssueType) -> dict[str, Any]:
        return {
            "self": f"{self.api}/issuetype/{it.id}",
            "id": it.id,
            "description": it.description,
            "iconUrl": f"{self.base}/images/icons/issuetypes/{it.name.lower()}.svg",
            "name": it.name,
            "subtask": it.subtask,
        }

    def status(self, status: Status) -> dict[str, Any]:
        cat_id, color, cat_name = CATEGORIES[status.category]
        return {
            "self": f"{self.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base}/",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{cat_id}",
                "id": cat_id,
                "key": status.category,
                "colorName": color,
                "name": cat_name,
            },
        }

    def priority(self, pid: str) -> dict[str, Any]:
        name = dict(PRIORITIES)[pid]
        return {
            "self": f"{self.api}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def schema(self, fdef: FieldDef) -> dict[str, Any]:
        kind = fdef.kind
        out: dict[str, Any]
        if kind.startswith("array:"):
            out = {"type": "array", "items": kind.split(":", 1)[1]}
        elif kind == "comments":
            out = {"type": "comments-page"}
        else:
            out = {"type": kind}
        if fdef.custom:
            plugin = "com.atlassian.jira.plugin.system.customfieldtypes"
            out.update(custom=f"{plugin}:{CUSTOM_TYPES[kind]}", customId=fdef.custom_id)
        else:
            out["system"] = fdef.id
        return out

    def field_def(self, fdef: FieldDef) -> dict[str, Any]:
        clause = [f"cf[{fdef.custom_id}]", fdef.name] if fdef.custom else [fdef.id]
        return {
            "id": fdef.id,
            "key": fdef.id,
            "name": fdef.name,
            "custom": fdef.custom,
            "orderable": fdef.settable,
            "navigable": fdef.id not in NOT_NAVIGABLE,
            "searchable": True,
            "clauseNames": clause,
            "schema": self.schema(fdef),
        }

    def option(self, fdef: FieldDef, option_id: str) -> dict[str, Any]:
        value = next((o.value for o in fdef.options if o.id == option_id), option_id)
        return {
            "self": f"{self.api}/customFieldOption/{option_id}",
            "value": value,
            "id": option_id,
        }

    def allowed_values(self, fdef: FieldDef, project: Project) -> list[dict[str, Any]] | None:
        if fdef.kind in ("option", "array:option"):
            return [
                {**self.option(fdef, o.id), "disabled": o.disabled}
                for o in fdef.options
                if not o.disabled
            ]
        if fdef.kind == "priority":
            return [self.priority(pid) for pid, _ in PRIORITIES]
        if fdef.kind == "issuetype":
            return [self.issue_type(self.state.issue_types[i]) for i in project.issue_type_ids]
        if fdef.kind == "project":
            return [self.project(project)]
        return None

    def field_value(self, issue: Issue, fdef: FieldDef) -> Any:
        fid, state = fdef.id, self.state
        if fid == "issuetype":
            return self.issue_type(state.issue_types[issue.issue_type_id])
        if fid == "project":
            return self.project(state.project_by_id(issue.project_id))
        if fid == "status":
            return self.status(state.statuses[issue.status_id])
        if fid == "created":
            return jira_time(issue.created)
        if fid == "updated":
            return jira_time(issue.updated)
        if fid == "creator":
            return self.user(issue.creator)
        if fid == "resolution":
            if issue.resolution_id is None:
                return None
            rid, name = RESOLUTION_DONE
            return {
                "self": f"{self.api}/resolution/{rid}",
                "id": rid,
                "description": "",
                "name": name,
            }
        if fid == "resolutiondate":
            return jira_time(issue.resolution_date) if issue.resolution_date else None
        if fid == "comment":
            comments = [self.comment(c) for c in issue.comments]
            n = len(comments)
            return {"comments": comments, "maxResults": n, "total": n, "startAt": 0}
        value = issue.values.get(fid)
        if value is None:
            return [] if fid == "labels" else None
        if fdef.kind == "option":
            return self.option(fdef, value)
        if fdef.kind == "array:option":
            return [self.option(fdef, v) for v in value]
        if fdef.kind == "user":
            return self.user(value)
        if fdef.kind == "priority":
            return self.priority(value)
        return value

    def issue_fields(self, issue: Issue, wanted: Iterable[str] | None = None) -> dict[str, Any]:
        ids = list(self.state.fields) if wanted is None else list(wanted)
        return {
            fid: self.field_value(issue, self.state.fields[fid])
            for fid in ids
            if fid in self.state.fields
        }

    def issue(
        self,
        issue: Issue,
        *,
        fields: Iterable[str] | None = None,
        expand: Iterable[str] = (),
        properties: Iterable[str] = (),
    ) -> dict[str, Any]:
        expand = set(expand)
        out: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": self.issue_fields(issue, fields),
        }
        if "names" in expand:
            out["names"] = {fid: self.state.fields[fid].name for fid in out["fields"]}
        if "schema" in expand:
            out["schema"] = {fid: self.schema(self.state.fields[fid]) for fid in out["fields"]}
        if "changelog" in expand:
            histories = [self.history(e) for e in issue.changelog if e.items]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        keys = list(properties)
        if keys:
            everything = "*all" in keys
            out["properties"] = {
                k: v for k, v in issue.properties.items() if everything or k in keys
            }
        return out

    def slim_issue(self, issue: Issue) -> dict[str, Any]:
        """The small issue element Cloud puts into comment events."""
        wanted = ("summary", "issuetype", "project", "assignee", "priority", "status")
        return {
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": self.issue_fields(issue, wanted),
        }

    def comment(
        self, comment: Comment, *, with_properties: bool = False, rendered: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.api}/issue/{comment.issue_id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.user(comment.author),
            "body": comment.body,
            "updateAuthor": self.user(comment.update_author),
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
        }
        if comment.visibility:
            out["visibility"] = dict(comment.visibility)
        elif self.flavor == "cloud":
            # Cloud tells every comment's audience; only Service Management has internal notes.
            out["jsdPublic"] = not (comment.internal and self._on_service_desk(comment))
        if with_properties:
            out["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
        if rendered:
            out["renderedBody"] = wiki.render(comment.body, self._display_name)
        return out

    def _display_name(self, ident: str) -> str | None:
        user = self.state.find_user(ident)
        return user.display_name if user else None

    def _on_service_desk(self, comment: Comment) -> bool:
        issue = self.state.issues.get(comment.issue_id)
        return issue is not None and self.state.project_by_id(issue.project_id).service_desk

    def remote_link(self, issue: Issue, link: RemoteLink) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": link.id,
            "self": f"{self.api}/issue/{issue.key}/remotelink/{link.id}",
        }
        if link.global_id is not None:
            out["globalId"] = link.global_id
        out.update(link.data)
        return out

    def change_item(self, item: ChangeItem) -> dict[str, Any]:
        out: dict[str, Any] = {"field": item.field, "fieldtype": item.fieldtype}
        if self.flavor == "cloud" and item.field_id:
            out["fieldId"] = item.field_id
        out.update(
            {
                "from": item.from_,
                "fromString": item.from_string,
                "to": item.to,
                "toString": item.to_string,
            }
        )
        return out

    def history(self, entry: ChangelogEntry) -> dict[str, Any]:
        return {
            "id": entry.id,
            "author": self.user(entry.author),
            "created": jira_time(entry.created),
            "items": [self.change_item(i) for i in entry.items],
        }
