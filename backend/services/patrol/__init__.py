"""Daily grid patrol (日常巡查): patrols and their tracks, planning (排班) and coverage."""
