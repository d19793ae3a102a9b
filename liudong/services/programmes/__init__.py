"""Reward and assistance programmes for family-planning families (issue 17): the rural
reward programme (农村部分计划生育家庭奖励扶助) and the special assistance programme
(计划生育家庭特别扶助).

A benefit, applied for and received: nothing here becomes a duty or a sanction. Eligibility
rules are data (``rules``), amounts are data per programme, year and province.
"""
