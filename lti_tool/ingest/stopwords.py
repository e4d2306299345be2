"""English word lists that keep cloze blanks and key terms meaningful."""

STOP_WORDS = frozenset(
    """
    a able about above across after afterwards again against all almost alone along already
    also also although always am among amongst an and another any anyhow anyone anything
    anyway anywhere are aren't around as at be became because become becomes becoming been
    before beforehand behind being below beside besides between beyond both but by can can't
    cannot could did didn't do does doesn't doing don't done down during e.g each eg either
    else elsewhere enough etc even ever every everyone everything everywhere except few for
    former formerly from further had has have having he hence her here hereafter hereby
    herein hers herself him himself his how however i i'm i.e ie if in indeed into is isn't
    it it's its itself just last latter latterly least less let let's lets like made many
    may me meanwhile might mine more moreover most mostly much must my myself namely neither
    never nevertheless next no nobody none noone nor not nothing now nowhere of off often on
    once one only onto or other others otherwise our ours ourselves out over own per perhaps
    please quite rather re really s same see seem seemed seeming seems several she should
    since so some somehow someone something sometime sometimes somewhere still such t than
    that that's the their theirs them themselves then thence there there's thereafter
    thereby therefore therein thereupon these they they're this those though through
    throughout thru thus to together too toward towards under until up upon us very via vs
    was we we're well were what what's whatever when whence whenever where whereafter
    whereas whereby wherein whereupon wherever whether which while whither who whoever whole
    whom whose why will with within without won't would yet you you're your yours yourself
    yourselves
    """.split()
)

GENERIC_WORDS = frozenset(
    """
    able above allow allowed allows also another answer answers area areas ask asked
    available bad become becomes began begin below best better big call called came case
    cases certain change changed chapter chapters choose clear click come comes course
    courses create created day days describe different discuss early easy ensure ensures etc
    example examples explain fact false find first follow following following follows found
    free full general generally get gets getting give given gives go goes going good got
    great group groups hard help helps high however important include included includes
    including information item items keep keeps kept kind kinds know known knows large last
    late learn left lesson lessons level levels likely long look looked looks lot lots low
    main make makes making many module modules much need needed needs new next note notes
    number numbers often old page pages part parts people person place places point points
    possible provide provided provides put question questions read real require required
    requires right said same say says second section sections see select set sets several
    short show shown shows simple small specific start started sure take taken takes tell
    therefore thing things think third thus time times told tries true try type types
    understand unit units use used uses using usually various want wants way ways went work
    worked working works year years
    """.split()
)
