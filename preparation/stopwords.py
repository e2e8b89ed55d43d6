"""The built-in English stop-word list.

Function words (articles, pronouns, prepositions, conjunctions, auxiliaries and the most common
adverbs) carry no topic, and left in they crowd the top of every NTM topic. The list also holds
the fragments that contractions leave behind, because the tokenizer splits words at apostrophes:
"don't" becomes "don" and "t", "we'll" becomes "we" and "ll".
"""

from __future__ import annotations

_WORDS = """
    a about above across after afterwards again against ago ain all almost alone along already
    also although always am among amongst an and another any anybody anyhow anyone anything
    anyway anywhere are aren around as at
    be became because become becomes becoming been before beforehand behind being below beside
    besides between beyond both but by
    can cannot could couldn
    d did didn do does doesn doing don done down during
    each eg either else elsewhere enough etc even ever every everybody everyone everything
    everywhere except
    few for former formerly from further furthermore
    had hadn has hasn have haven having he hence her here hereafter hereby herein hers herself
    him himself his how however
    i ie if in indeed instead into is isn it its itself
    just
    least less let ll
    m ma may maybe me meanwhile might mightn mine more moreover most mostly much must mustn my
    myself
    namely neither never nevertheless next no nobody none noone nor not nothing now nowhere
    o of off often oh ok on once one only onto or other others otherwise ought our ours
    ourselves out over own
    per perhaps please
    quite
    rather re
    s same shall shan she should shouldn since so some somebody somehow someone something
    sometime sometimes somewhere still such
    t than that the their theirs them themselves then thence there thereafter thereby therefore
    therein thereupon these they this those though through throughout thru thus to together too
    toward towards
    under unless unlike until unto up upon us
    ve very via
    was wasn we were weren what whatever when whence whenever where whereafter whereas whereby
    wherein whereupon wherever whether which while whither who whoever whole whom whomever whose
    why will with within without won would wouldn
    y yes yet you your yours yourself yourselves
    """
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(_WORDS.split())
