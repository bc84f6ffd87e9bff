"""The pieces of ``icp demo``: the scripted cast and answers, the transcript, the Slack run."""
