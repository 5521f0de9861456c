"""The conformance table: every scenario Heliostat must run exactly as LiteSVM does.

One entry = program + pre-state accounts + instruction + signers + what LiteSVM reports
(see `conformance_harness.Scenario`). Add a scenario by appending to one of the lists below.
"""

from __future__ import annotations

from conformance_harness import Scenario
from program_scenarios import C_SCENARIOS, MEMO_SCENARIOS, PROBE_SCENARIOS
from token_scenarios import TOKEN_2022_SCENARIOS, TOKEN_SCENARIOS

SCENARIOS: list[Scenario] = [
    *TOKEN_SCENARIOS,
    *TOKEN_2022_SCENARIOS,
    *MEMO_SCENARIOS,
    *C_SCENARIOS,
    *PROBE_SCENARIOS,
]
