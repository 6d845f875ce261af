"""The public face: competition pages, funded ideas and the programme's impact for visitors,
with a sitemap and an Atom feed of open competitions. Nothing here needs a login and nothing
personal is shown: an idea's own texts and reported results only with the applicant's consent."""
