// Names for the trace's enums: the kernel's own words where there are some.
#include "sim/trace.h"

namespace eps {

std::string_view cpu_mode_name(CpuMode m) {
  switch (m) {
    case CpuMode::Idle: return "idle";
    case CpuMode::User: return "user";
    case CpuMode::System: return "syscall";
    case CpuMode::HardIrq: return "hard IRQ";
    case CpuMode::Softirq: return "softirq";
    case CpuMode::Switch: return "context switch";
  }
  return "?";
}

std::string_view task_state_name(TaskState s) {
  switch (s) {
    case TaskState::Running: return "running";
    case TaskState::Runnable: return "runnable";
    case TaskState::Sleeping: return "sleeping";
    case TaskState::Dead: return "dead";
  }
  return "?";
}

std::string_view sys_name(Sys s) {
  switch (s) {
    case Sys::None: return "";
    case Sys::Accept4: return "accept4";
    case Sys::Clone: return "clone";
    case Sys::Close: return "close";
    case Sys::Recvfrom: return "recvfrom";
    case Sys::Sendto: return "sendto";
    case Sys::Select: return "select";
    case Sys::Poll: return "poll";
    case Sys::EpollCreate1: return "epoll_create1";
    case Sys::EpollCtl: return "epoll_ctl";
    case Sys::EpollWait: return "epoll_wait";
    case Sys::Count: break;
  }
  return "?";
}

std::string_view fail_reason_name(FailReason r) {
  switch (r) {
    case FailReason::NicDrop: return "dropped at NIC";
    case FailReason::Unanswered: return "unanswered";
    case FailReason::Refused: return "refused";
  }
  return "?";
}

std::string_view ev_name(Ev e) {
  switch (e) {
    case Ev::TaskCreate: return "task_create";
    case Ev::SocketCreate: return "socket_create";
    case Ev::EpollCreate: return "epoll_create";
    case Ev::FdClose: return "fd_close";
    case Ev::CpuMode: return "cpu_mode";
    case Ev::TaskState: return "task_state";
    case Ev::ContextSwitch: return "sched_switch";
    case Ev::TryToWakeUp: return "sched_wakeup";
    case Ev::ProgramLine: return "program_line";
    case Ev::SyscallEnter: return "sys_enter";
    case Ev::SyscallExit: return "sys_exit";
    case Ev::UserWork: return "user_work";
    case Ev::ClientSend: return "client_send";
    case Ev::NicRx: return "nic_rx";
    case Ev::NicDrop: return "nic_drop";
    case Ev::HardIrq: return "hard_irq";
    case Ev::NapiSchedule: return "napi_schedule";
    case Ev::Softirq: return "softirq";
    case Ev::TimeSqueeze: return "time_squeeze";
    case Ev::NapiRx: return "napi_poll_rx";
    case Ev::PollScan: return "poll_scan";
    case Ev::ReplySend: return "reply_send";
    case Ev::SkbQueue: return "skb_queue";
    case Ev::SkbDequeue: return "skb_dequeue";
    case Ev::WaitAdd: return "wait_add";
    case Ev::WaitRemove: return "wait_remove";
    case Ev::WaitWake: return "wait_wake";
    case Ev::EpitemInsert: return "epitem_insert";
    case Ev::EpitemRemove: return "epitem_remove";
    case Ev::EpitemModify: return "epitem_modify";
    case Ev::RbRotate: return "rb_rotate";
    case Ev::RbRecolor: return "rb_recolor";
    case Ev::RdllistAdd: return "rdllist_add";
    case Ev::RdllistRemove: return "rdllist_remove";
    case Ev::ReplyRecv: return "reply_recv";
    case Ev::RequestFailed: return "request_failed";
    case Ev::FdInstall: return "fd_install";
    case Ev::ClientConnect: return "client_connect";
    case Ev::Count: break;
  }
  return "?";
}

}  // namespace eps
