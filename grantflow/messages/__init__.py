"""Messages on an idea: questions to the applicant and their answers, staff notes."""
