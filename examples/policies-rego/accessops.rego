# Rego policies over an accessops plan, in Terraform's JSON plan shape.
#
# Input: `accessops plan --format json` output, or the saved plan file itself
# (`accessops plan --out plan.json`): its top level is the same plan.
#
#   conftest test plan.json -p examples/policies-rego
#
# Resources are read from planned_values (what live will hold after the apply)
# and prior_state (what it holds now); each resource's values carry its key
# segments (org, email, workspace, team, ...) beside its attributes, so the
# messages name those rather than the addresses.
package main

import rego.v1

planned := object.get(input, ["planned_values", "root_module", "resources"], [])

prior := object.get(input, ["prior_state", "values", "root_module", "resources"], [])

finance_team := "finance"

# --- deny removing the last owners ----------------------------------------------

owners(resources, org) := {r.values.email |
	some r in resources
	r.type == "accessops_member"
	r.values.org == org
	r.values.role == "Owner"
}

orgs := {r.values.org | some r in prior; r.type == "accessops_organization"}

deny contains msg if {
	some org in orgs
	before := owners(prior, org)
	count(before) > 0
	count(owners(planned, org)) == 0
	# concat, not sprintf("%s", [concat(...)]): regopy (rego-cpp 1.5) quotes a concat result inside sprintf
	msg := concat("", ["organization ", org, ": the plan removes its last Owner(s): ", concat(", ", sort(before))])
}

# --- deny Billing: Full outside team finance --------------------------------------

in_finance(org, email) if {
	some r in planned
	r.type == "accessops_team_member"
	r.values.org == org
	r.values.team == finance_team
	r.values.email == email
}

place(r) := sprintf("workspace %s/%s", [r.values.org, r.values.workspace]) if r.type == "accessops_workspace_member"

place(r) := sprintf("space %s/%s", [r.values.org, r.values.space]) if r.type == "accessops_space_member"

deny contains msg if {
	some r in planned
	r.type in {"accessops_workspace_member", "accessops_space_member"}
	r.values.sections.Billing == "Full"
	not in_finance(r.values.org, r.values.email)
	msg := sprintf("%s: %s gets Billing: Full but is not in team %s", [place(r), r.values.email, finance_team])
}

# --- warn on every new Owner grant (a reviewer should look) -----------------------

warn contains msg if {
	some rc in input.resource_changes
	rc.type == "accessops_member"
	rc.change.after.role == "Owner"
	object.get(rc.change, ["before", "role"], null) != "Owner"
	msg := sprintf("organization %s: %s is granted Owner", [rc.change.after.org, rc.change.after.email])
}
