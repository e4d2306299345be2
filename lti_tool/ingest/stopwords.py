"""English word lists that keep cloze blanks and key terms meaningful."""

STOP_WORDS = frozenset(
    """
a about above across after afterwards again against all almost alone along already also although
always am among amongst an and another any anyhow anyone anything anyway anywhere are around as at
be became because become becomes becoming been before beforehand behind being below beside besides
between beyond both but by can cannot could did do does doing done down during each either else
elsewhere enough etc even ever every everyone everything everywhere except few for former formerly
from further had has have having he hence her here hereafter hereby herein hers herself him himself
his how however i ie if in indeed into is it its itself just last latter latterly least less let
lets like made many may me meanwhile might mine more moreover most mostly much must my myself
namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off
often on once one only onto or other others otherwise our ours ourselves out over own per perhaps
please quite rather re really same see seem seemed seeming seems several she should since so some
somehow someone something sometime sometimes somewhere still such than that the their theirs them
themselves then thence there thereafter thereby therefore therein thereupon these they this those
though through throughout thru thus to together too toward towards under until up upon us very via
was we well were what whatever when whence whenever where whereafter whereas whereby wherein
whereupon wherever whether which while whither who whoever whole whom whose why will with within
without would yet you your yours yourself yourselves e.g i.e eg vs also able s t don't can't won't
it's isn't aren't doesn't didn't i'm you're we're they're that's there's let's what's
""".split()
)

#: Frequent verbs, adjectives and vague nouns: never a blank on their own or at a phrase's end.
GENERIC_WORDS = frozenset(
    """
use used uses using make makes making need needs needed get gets getting got give gives given take
takes taken want wants know knows known think go goes going went come comes came say says said
tell told ask asked find found look looks looked help helps work works worked working include
includes included including ensure ensures provide provides provided allow allows allowed
require requires required become becomes keep keeps kept set sets put show shows shown try tries
call called follow follows following start started begin began change changed create created
new old good bad great big small large high low long short important different same various
certain main many much several specific general possible available able likely sure right left
best better first second third last next early late full free clear simple easy hard real true
false example examples way ways thing things lot lots kind kinds type types part parts number
numbers time times day days year years people person case cases point points fact area areas
place places level levels group groups question questions answer answers page pages section
sections chapter chapters module modules course courses unit units lesson lessons item items
information note notes see also another etc however therefore thus often usually generally
following above below click select choose read learn understand describe explain discuss
""".split()
)
