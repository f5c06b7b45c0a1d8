// TCP connection states (RFC 9293 §3.3.2). Only Connection::set_state() writes a connection's state.
//
//                              +---------+ ---------\      active OPEN
//                              |  CLOSED |            \    -----------
//                              +---------+<---------\   \   create TCB
//                                |     ^              \   \  snd SYN
//                   passive OPEN |     |   CLOSE        \   \ .
//                   ------------ |     | ----------       \   \ .
//                    create TCB  |     | delete TCB         \   \ .
//                                V     |                      \   \ .
//            rcv RST (note 1)  +---------+            CLOSE    |    \ .
//         -------------------->|  LISTEN |          ---------- |     |
//        /                     +---------+          delete TCB |     |
//       /           rcv SYN      |     |     SEND              |     |
//      /           -----------   |     |    -------            |     V
// +--------+      snd SYN,ACK  /       \   snd SYN          +--------+
// |        |<-----------------           ------------------>|        |
// |  SYN   |                    rcv SYN                     |  SYN   |
// |  RCVD  |<-----------------------------------------------|  SENT  |
// |        |                  snd SYN,ACK                   |        |
// |        |------------------           -------------------|        |
// +--------+   rcv ACK of SYN  \       /  rcv SYN,ACK       +--------+
//    |         --------------   |     |   -----------
//    |                x         |     |     snd ACK
//    |                          V     V
//    |  CLOSE                 +---------+
//    | -------                |  ESTAB  |
//    | snd FIN                +---------+
//    |                 CLOSE    |     |    rcv FIN
//    V                -------   |     |    -------
// +---------+         snd FIN  /       \   snd ACK         +---------+
// |  FIN    |<----------------          ------------------>|  CLOSE  |
// | WAIT-1  |------------------                            |   WAIT  |
// +---------+          rcv FIN  \                          +---------+
//   | rcv ACK of FIN   -------   |                          CLOSE  |
//   | --------------   snd ACK   |                         ------- |
//   V        x                   V                         snd FIN V
// +---------+               +---------+                    +---------+
// |FINWAIT-2|               | CLOSING |                    | LAST-ACK|
// +---------+               +---------+                    +---------+
//   |              rcv ACK of FIN |                 rcv ACK of FIN |
//   |  rcv FIN     -------------- |    Timeout=2MSL -------------- |
//   |  -------            x       V    ------------        x       V
//    \ snd ACK              +---------+delete TCB          +---------+
//      -------------------->|TIME-WAIT|------------------->| CLOSED  |
//                           +---------+                    +---------+
//
// (note 1: a passive-open connection that receives RST in SYN-RCVD returns to LISTEN; here the
// listener stays in LISTEN and the embryonic connection is simply freed.)
#pragma once

#include <cstdint>
#include <string_view>

namespace stack::tcp {

enum class TcpState : std::uint8_t {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
};

constexpr std::string_view to_string(TcpState s) {
    switch (s) {
        case TcpState::Closed: return "CLOSED";
        case TcpState::Listen: return "LISTEN";
        case TcpState::SynSent: return "SYN-SENT";
        case TcpState::SynReceived: return "SYN-RECEIVED";
        case TcpState::Established: return "ESTABLISHED";
        case TcpState::FinWait1: return "FIN-WAIT-1";
        case TcpState::FinWait2: return "FIN-WAIT-2";
        case TcpState::CloseWait: return "CLOSE-WAIT";
        case TcpState::Closing: return "CLOSING";
        case TcpState::LastAck: return "LAST-ACK";
        case TcpState::TimeWait: return "TIME-WAIT";
    }
    return "?";
}

// States in which the connection is synchronized (RFC 9293 §3.5.2 "synchronized states").
constexpr bool is_synchronized(TcpState s) {
    return s != TcpState::Closed && s != TcpState::Listen && s != TcpState::SynSent &&
           s != TcpState::SynReceived;
}

}  // namespace stack::tcp
