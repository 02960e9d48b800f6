"""Sample interview answers shared by the analysis and offline-coach tests."""

from __future__ import annotations

BEHAVIOURAL_EN = "Tell me about a time you improved a system."
BEHAVIOURAL_KO = "시스템을 개선한 경험을 말해 주세요."

STRONG_EN = (
    "I cut our checkout latency by 60% in six weeks. "
    "At my previous company, the checkout page took 2 seconds to load and customers were "
    "abandoning carts. My task was to bring it under 800 ms before the holiday sale. "
    "I profiled the service, found that we made twelve sequential database calls, and I "
    "rewrote them as two batched queries. I then added a cache for the product catalogue "
    "and set up an alert on the p95. As a result, latency dropped from 2 s to 800 ms and "
    "conversion increased by 4%, which was worth about $200k that quarter."
)
WE_ONLY_EN = (
    "Um, so at my last job there was a situation where the team was, like, really slow. "
    "We had a lot of meetings and you know, we talked about it. We decided to change the "
    "process and we used a new tool. Uh, it was better after that, basically."
)
STRONG_KO = (
    "결론부터 말씀드리면, 제가 배포 파이프라인을 자동화해 배포 시간을 40분에서 5분으로 "
    "줄였습니다. 당시 저희 팀은 수동 배포 때문에 주 2회 장애가 있었습니다. 제 역할은 "
    "배포 안정성을 높이는 것이었습니다. 제가 CI 파이프라인을 설계하고 롤백 스크립트를 "
    "구현했습니다. 그 결과 장애가 월 1회로 감소했고 팀의 배포 횟수는 3배 증가했습니다."
)
WEAK_KO = (
    "음... 그, 저희 팀이 예전에 프로젝트를 할 때 상황이 좀 어려웠습니다. 당시 회사에서 "
    "일정이 많이 밀려 있었고 팀원들이 다들 바빴습니다. 어 뭐 그래서 저희가 같이 "
    "열심히 했습니다. 잘 마무리되었습니다."
)

# (question, answer): a direct answer the rules score 5, with no number in it.
DIRECT_5: dict[str, tuple[str, str]] = {
    "en": ("Why do you want to join our company?",
           "I want to join because your payments platform is the kind of system I love to "
           "build. In my current job I rebuilt our billing service myself, and I learned how "
           "much careful design matters when money moves. For example, I wrote the retry "
           "logic that stopped double charges, and I explained it to our support team so "
           "they could answer customers. I also read your engineering blog, and the post "
           "about your ledger convinced me that you care about correctness the way I do. I "
           "would bring that care, my experience with queues and databases, and my habit of "
           "writing clear documents for others."),
    "ko": ("우리 회사에 지원한 이유는 무엇인가요?",
           "결론부터 말씀드리면 저는 결제 시스템을 가장 잘 만들 수 있는 곳이 이 회사라고 "
           "생각해서 지원했습니다. 현재 회사에서 제가 정산 서비스를 직접 다시 만들면서 돈이 "
           "오가는 시스템에서 설계가 얼마나 중요한지 배웠습니다. 예를 들어 중복 결제를 막는 "
           "재시도 로직을 제가 작성했고, 고객 지원팀이 설명할 수 있도록 문서도 만들었습니다. "
           "귀사의 기술 블로그에서 원장 설계에 관한 글을 읽고, 정확성을 중요하게 여기는 "
           "문화가 저와 맞는다고 느꼈습니다."),
}  # fmt: skip
