# terraform-compliance over an accessops plan (plan --format json output, or the
# saved plan file): no terraform binary is needed, the plan is JSON already.
#
#   terraform-compliance -p plan.json -f examples/terraform-compliance
#
# accessops resources are accessops_<type>, one block per organization, the
# rest of the key as index: accessops_member.acme["bo@acme.test"].

Feature: Owner grants get a second look
  Members are Owner only when the owners agree; the plan must not make anyone
  Owner on its own.

  Scenario: every member has a role of the union profile
    Given I have accessops_member defined
    Then it must contain role
    And its value must match the "^(Owner|Admin|Admin W/O Billing|Billing|Maintainer|Member)$" regex

  Scenario: nobody joins as Owner
    Given I have accessops_member defined
    When its actions metadata has create
    Then it must contain role
    And its value must not be Owner

  Scenario: nobody is changed to Owner
    Given I have accessops_member defined
    When its actions metadata has update
    Then it must contain role
    And its value must not be Owner
