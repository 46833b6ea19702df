"""An in-process/standalone Jira REST simulator for tests and demos."""

from jirasim.faults import Fault, SimulatedDisconnect
from jirasim.server import RunningServer
from jirasim.simulator import JiraSimulator

__all__ = ["Fault", "JiraSimulator", "RunningServer", "SimulatedDisconnect"]
